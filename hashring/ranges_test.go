package hashring

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

func TestRangeContains(t *testing.T) {
	tests := []struct {
		g    Range
		pos  uint64
		want bool
	}{
		{Range{"a", 10, 20}, 10, false}, // start excluded
		{Range{"a", 10, 20}, 11, true},
		{Range{"a", 10, 20}, 20, true}, // end included
		{Range{"a", 10, 20}, 21, false},
		{Range{"a", 10, 20}, 0, false},
		{Range{"a", 20, 10}, 20, false}, // wrap-around arc
		{Range{"a", 20, 10}, 21, true},
		{Range{"a", 20, 10}, math.MaxUint64, true},
		{Range{"a", 20, 10}, 0, true},
		{Range{"a", 20, 10}, 10, true},
		{Range{"a", 20, 10}, 15, false},
		{Range{"a", 7, 7}, 7, true}, // Start == End: the whole ring
		{Range{"a", 7, 7}, 0, true},
		{Range{"a", 7, 7}, math.MaxUint64, true},
	}
	for _, tt := range tests {
		if got := tt.g.Contains(tt.pos); got != tt.want {
			t.Errorf("%v.Contains(%d) = %v, want %v", tt.g, tt.pos, got, tt.want)
		}
	}
}

func TestRangeFraction(t *testing.T) {
	tests := []struct {
		g    Range
		want float64
	}{
		{Range{"a", 0, 1 << 63}, 0.5},
		{Range{"a", 1 << 62, 0}, 0.75}, // wraps
		{Range{"a", 5, 5}, 1},
		{Range{"a", math.MaxUint64, 1 << 62}, 0.25},
	}
	for _, tt := range tests {
		if got := tt.g.Fraction(); got != tt.want {
			t.Errorf("%v.Fraction() = %v, want %v", tt.g, got, tt.want)
		}
	}
}

func TestRangesHandComputed(t *testing.T) {
	// vnodes 21,22,23 (2), 41,42,43 (4), 61,62,63 (6): adjacent vnodes of a
	// server merge, and 2's arc wraps past zero.
	r := handRing("2", "4", "6")
	want := []Range{{"2", 63, 23}, {"4", 23, 43}, {"6", 43, 63}}
	if got := r.Ranges(); !slices.Equal(got, want) {
		t.Errorf("Ranges() = %v, want %v", got, want)
	}
	// With V=1: one vnode each, at 21 (2), 31 (3) and 51 (5).
	r = New([]string{"3", "2", "5"}, WithVNodes(1), WithHash(numHash))
	want = []Range{{"2", 51, 21}, {"3", 21, 31}, {"5", 31, 51}}
	if got := r.Ranges(); !slices.Equal(got, want) {
		t.Errorf("V=1 Ranges() = %v, want %v", got, want)
	}
	// a's arcs (20,30] and (30,10] meet at the top of the ring: joined.
	r = New([]string{"a", "b"}, WithVNodes(2), WithHash(tableHash(map[string]uint64{
		"a-1": 10, "b-1": 20, "a-2": 30, "b-2": 20,
	})))
	want = []Range{{"a", 20, 10}, {"b", 10, 20}}
	if got := r.Ranges(); !slices.Equal(got, want) {
		t.Errorf("wrap-joined Ranges() = %v, want %v", got, want)
	}
	// A single server owns the whole ring as one arc.
	r = handRing("4")
	want = []Range{{"4", 43, 43}}
	if got := r.Ranges(); !slices.Equal(got, want) {
		t.Errorf("single-server Ranges() = %v, want %v", got, want)
	}
	if s := r.Shares(); len(s) != 1 || s["4"] != 1 {
		t.Errorf("single-server Shares() = %v", s)
	}
}

func testRings() map[string]*Ring {
	rings := map[string]*Ring{"S=100,V=64": New(members(100), WithVNodes(64))}
	for s := 1; s <= 8; s++ {
		for _, v := range []int{1, 3, 64} {
			rings["S="+strconv.Itoa(s)+",V="+strconv.Itoa(v)] = New(members(s), WithVNodes(v))
		}
	}
	return rings
}

// TestRangesPartitionRing checks exactly, in integers, that the arcs tile
// the ring: each starts where the previous one ends, the last one ends where
// the first starts, and they are in ring order. Shares must sum to 1.
func TestRangesPartitionRing(t *testing.T) {
	for name, r := range testRings() {
		gs := r.Ranges()
		for i, g := range gs {
			prev := gs[(i+len(gs)-1)%len(gs)]
			if g.Start != prev.End || (i > 0 && g.End <= prev.End) || g.Server == prev.Server && len(gs) > 1 {
				t.Errorf("%s: arc %d %v does not follow %v", name, i, g, prev)
			}
		}
		sum := 0.0
		for _, f := range r.Shares() {
			sum += f
		}
		if math.Abs(sum-1) > 1e-9 || len(r.Shares()) != r.Len() {
			t.Errorf("%s: %d shares summing to %v", name, len(r.Shares()), sum)
		}
	}
}

// TestRangesAgreeWithOwners checks that every position, random or on an arc
// boundary, lies in exactly one arc, owned by OwnersAt(pos, 1)[0]; and the
// same for random keys through Owners.
func TestRangesAgreeWithOwners(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	keys := uuidKeys(9, 2000)
	for name, r := range testRings() {
		gs := r.Ranges()
		owner := func(pos uint64) string {
			var in []string
			for _, g := range gs {
				if g.Contains(pos) {
					in = append(in, g.Server)
				}
			}
			if len(in) != 1 {
				t.Fatalf("%s: position %#x is in %d arcs %q", name, pos, len(in), in)
			}
			return in[0]
		}
		positions := []uint64{0, 1, math.MaxUint64}
		step := max(1, len(gs)/64) // the scan is O(arcs): sample big rings
		for i := 0; i < len(gs); i += step {
			g := gs[i]
			positions = append(positions, g.Start, g.Start+1, g.End, g.End+1)
		}
		for range 500 {
			positions = append(positions, rng.Uint64())
		}
		for _, p := range positions {
			if got, want := owner(p), r.OwnersAt(p, 1)[0]; got != want {
				t.Fatalf("%s: position %#x: arc owner %s, OwnersAt %s", name, p, got, want)
			}
		}
		for _, k := range keys {
			if got, want := owner(Position(k)), r.Owners(k, 1)[0]; got != want {
				t.Fatalf("%s: key %s: arc owner %s, Owners %s", name, k, got, want)
			}
		}
	}
}

func TestStringHandRing(t *testing.T) {
	const want = `hashring: 3 servers, 3 vnodes/server, 9 points
SERVER  START (excl)        END (incl)          SHARE
2       0x000000000000003f  0x0000000000000017  100.000%
4       0x0000000000000017  0x000000000000002b    0.000%
6       0x000000000000002b  0x000000000000003f    0.000%

SERVER  TOTAL SHARE
2       100.000%
4         0.000%
6         0.000%
`
	if got := handRing("4", "6", "2").String(); got != want {
		t.Errorf("String() =\n%s\nwant\n%s", got, want)
	}
	if got := (Range{"s", 1, 255}).String(); got != "s (0x0000000000000001, 0x00000000000000ff]" {
		t.Errorf("Range.String() = %q", got)
	}
}
