package hashring

import (
	"slices"
	"testing"
)

func TestPositionsHandComputed(t *testing.T) {
	r := handRing("2", "4", "6")
	if got, want := r.Positions("4"), []uint64{41, 42, 43}; !slices.Equal(got, want) {
		t.Errorf("Positions(4) = %v, want %v", got, want)
	}
	if !r.Has("4") || r.Has("5") || r.Has("") {
		t.Errorf("Has(4), Has(5), Has(\"\") = %v, %v, %v; want true, false, false", r.Has("4"), r.Has("5"), r.Has(""))
	}
	if got := r.Positions("5"); got != nil {
		t.Errorf("Positions of a non-member = %v, want nil", got)
	}
	// Ties keep every vnode, even the ones a smaller ID wins.
	r = New([]string{"a", "b"}, WithVNodes(2), WithHash(zeroHash))
	if got, want := r.Positions("b"), []uint64{0, 0}; !slices.Equal(got, want) {
		t.Errorf("tied Positions(b) = %v, want %v", got, want)
	}
}

func TestOwnedRangesHandComputed(t *testing.T) {
	// vnodes 21,22,23 (2), 41,42,43 (4), 61,62,63 (6). With N=2 the
	// preference list is [2 4] on (63,23], [4 6] on (23,43] and [6 2] on
	// (43,63].
	r := handRing("2", "4", "6")
	tests := []struct {
		server string
		n      int
		want   []Range
	}{
		{"2", 1, []Range{{"2", 63, 23}}},
		{"2", 2, []Range{{"2", 43, 23}}}, // (43,63] and (63,23] joined across 0
		{"4", 2, []Range{{"4", 63, 43}}},
		{"6", 2, []Range{{"6", 23, 63}}},
		{"6", 3, []Range{{"6", 63, 63}}}, // N = every server: the whole ring
		{"6", 9, []Range{{"6", 63, 63}}},
		{"6", 0, nil},
		{"5", 2, nil}, // not a member
	}
	for _, tt := range tests {
		if got := r.OwnedRanges(tt.server, tt.n); !slices.Equal(got, tt.want) {
			t.Errorf("OwnedRanges(%s, %d) = %v, want %v", tt.server, tt.n, got, tt.want)
		}
	}
	// V=1 at 21 (2), 31 (3), 51 (5), 71 (7); with N=2 the preference
	// list is [2 3] on (71,21], [3 5] on (21,31], [5 7] on (31,51] and
	// [7 2] on (51,71], so 5 owns (21,51].
	r = New([]string{"2", "3", "5", "7"}, WithVNodes(1), WithHash(numHash))
	if got, want := r.OwnedRanges("5", 2), []Range{{"5", 21, 51}}; !slices.Equal(got, want) {
		t.Errorf("V=1 OwnedRanges(5, 2) = %v, want %v", got, want)
	}
	r = New([]string{"a", "b", "c"}, WithVNodes(2), WithHash(tableHash(map[string]uint64{
		"a-1": 10, "b-1": 20, "c-1": 30, "a-2": 40, "b-2": 50, "c-2": 60,
	})))
	// N=1: a owns (60,10] and (30,40], two arcs, the wrapping one first.
	if got, want := r.OwnedRanges("a", 1), []Range{{"a", 60, 10}, {"a", 30, 40}}; !slices.Equal(got, want) {
		t.Errorf("two-arc OwnedRanges(a, 1) = %v, want %v", got, want)
	}
	// All vnodes at one position: the smallest ID owns the whole ring.
	r = New([]string{"a", "b"}, WithHash(zeroHash))
	if got, want := r.OwnedRanges("a", 1), []Range{{"a", 0, 0}}; !slices.Equal(got, want) {
		t.Errorf("tied OwnedRanges(a, 1) = %v, want %v", got, want)
	}
	if got := r.OwnedRanges("b", 1); got != nil {
		t.Errorf("tied OwnedRanges(b, 1) = %v, want nil", got)
	}
}

func TestOwnedRangesAgreeWithOwnersAndRanges(t *testing.T) {
	r := New(members(5))
	for _, s := range r.Servers() {
		// n = 1 is the primary arcs.
		var primary []Range
		for _, g := range r.Ranges() {
			if g.Server == s {
				primary = append(primary, g)
			}
		}
		if got := r.OwnedRanges(s, 1); !slices.Equal(got, primary) {
			t.Errorf("OwnedRanges(%s, 1) = %v, want its primary arcs %v", s, got, primary)
		}
		// Every key is inside s's owned arcs exactly when s owns it.
		owned := r.OwnedRanges(s, 3)
		for _, k := range uuidKeys(7, 500) {
			in := slices.ContainsFunc(owned, func(g Range) bool { return g.Contains(Position(k)) })
			if want := slices.Contains(r.Owners(k, 3), s); in != want {
				t.Fatalf("key %s: inside %s's owned arcs = %v, owner = %v", k, s, in, want)
			}
		}
	}
}

func TestOwnedShareHandComputed(t *testing.T) {
	// One vnode each at quarter turns: with N=2 each server owns its own
	// quarter and its predecessor's, half the ring.
	r := New([]string{"a", "b", "c", "d"}, WithVNodes(1), WithHash(tableHash(map[string]uint64{
		"a-1": 0, "b-1": 1 << 62, "c-1": 2 << 62, "d-1": 3 << 62,
	})))
	for _, s := range r.Servers() {
		if got := r.OwnedShare(s, 2); got != 0.5 {
			t.Errorf("OwnedShare(%s, 2) = %v, want 0.5", s, got)
		}
		if got := r.OwnedShare(s, 1); got != 0.25 {
			t.Errorf("OwnedShare(%s, 1) = %v, want 0.25", s, got)
		}
		if got := r.OwnedShare(s, 4); got != 1 {
			t.Errorf("OwnedShare(%s, 4) = %v, want 1", s, got)
		}
	}
	if got, want := r.OwnedRanges("a", 2), []Range{{"a", 2 << 62, 0}}; !slices.Equal(got, want) {
		t.Errorf("OwnedRanges(a, 2) = %v, want %v", got, want)
	}
}
