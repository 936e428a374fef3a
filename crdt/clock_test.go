package crdt

import (
	"testing"
	"time"
)

func TestClockNowStrictlyIncreasesWhenWallStandsStill(t *testing.T) {
	ft := newFakeTime(0)
	c := NewClockWith(replicaID(1), ft.now)
	prev := c.Now()
	for i := 0; i < 1000; i++ {
		next := c.Now()
		if !next.After(prev) {
			t.Fatalf("reading %d: %+v not after %+v", i, next, prev)
		}
		prev = next
	}
	if prev.Wall != base.UnixMilli() {
		t.Fatalf("wall moved without the wall clock: %d", prev.Wall)
	}
}

func TestClockNowNeverGoesBackWhenWallDoes(t *testing.T) {
	ft := newFakeTime(0)
	c := NewClockWith(replicaID(1), ft.now)
	first := c.Now()
	ft.advance(-time.Hour)
	if second := c.Now(); !second.After(first) {
		t.Fatalf("after the wall clock went back, %+v is not after %+v", second, first)
	}
}

func TestClockObserveOrdersLaterReadings(t *testing.T) {
	ahead := NewClockWith(replicaID(1), newFakeTime(time.Hour).now)
	behind := NewClockWith(replicaID(2), newFakeTime(0).now)
	remote := ahead.Now()
	behind.Observe(remote)
	if local := behind.Now(); !local.After(remote) {
		t.Fatalf("reading after Observe %+v is not after the observed %+v", local, remote)
	}
}

func TestClockLogicalOverflowCarriesIntoWall(t *testing.T) {
	c := NewClockWith(replicaID(1), newFakeTime(0).now)
	c.Observe(Timestamp{Wall: base.UnixMilli(), Logical: MaxLogical})
	got := c.Now()
	if got.Wall != base.UnixMilli()+1 || got.Logical != 0 {
		t.Fatalf("got %+v, want wall+1 and logical 0", got)
	}
}

func TestTimestampBinaryOrderMatchesCompare(t *testing.T) {
	stamps := []Timestamp{
		{},
		{Wall: 1},
		{Wall: 1, Logical: 1},
		{Wall: 1, Logical: 1, Replica: replicaID(2)},
		{Wall: 2, Replica: replicaID(1)},
	}
	for i, a := range stamps {
		for j, b := range stamps {
			ab, bb := a.appendBinary(nil), b.appendBinary(nil)
			if got, want := compareBytes(ab, bb), a.Compare(b); got != want {
				t.Errorf("stamps %d,%d: bytes compare %d, Compare %d", i, j, got, want)
			}
			back, ok := timestampFromBinary(ab)
			if !ok || back != a {
				t.Errorf("stamp %d: round trip gave %+v, %v", i, back, ok)
			}
		}
	}
}

func compareBytes(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// TestAStampAtTheTopOfTheRangeCannotWrapTheClock: the latest stamp Decode
// accepts, observed by a clock, leaves room for the next reading, which
// still encodes and decodes; so a replica that merged it keeps a valid
// list.
func TestAStampAtTheTopOfTheRangeCannotWrapTheClock(t *testing.T) {
	top := Timestamp{Wall: MaxWall, Logical: MaxLogical - 1, Replica: replicaID(9)}
	forged := enc(t, []any{1, listID[:], "far future", top.appendBinary(nil), []any{}})
	l, err := Decode(forged)
	if err != nil {
		t.Fatalf("the top of the range refused: %v", err)
	}
	r := newReplica(1, 0)
	must(t, l.Add(r.clock, "milk", 1))
	if v := mustItem(t, l, "milk"); !v.Modified.After(top) || v.Modified.Wall != MaxWall {
		t.Fatalf("edit after the top stamp is stamped %+v", v.Modified)
	}
	if _, err := Decode(l.Encode()); err != nil {
		t.Fatalf("the list no longer decodes after an edit: %v", err)
	}
	// At the very top the clock stays there: the list still decodes.
	must(t, l.Add(r.clock, "eggs", 1))
	must(t, l.Add(r.clock, "tea", 1))
	if v := mustItem(t, l, "tea"); v.Modified.Wall != MaxWall || v.Modified.Logical != MaxLogical {
		t.Fatalf("reading at the top of the range: %+v", v.Modified)
	}
	if _, err := Decode(l.Encode()); err != nil {
		t.Fatalf("the list no longer decodes at the top of the range: %v", err)
	}
}

func TestClockIgnoresStampsOutOfRange(t *testing.T) {
	c := NewClockWith(replicaID(1), newFakeTime(0).now)
	c.Observe(Timestamp{Wall: 1<<63 - 1})
	c.Observe(Timestamp{Wall: base.UnixMilli(), Logical: 1<<32 - 1})
	if got := c.Now(); got.Wall != base.UnixMilli() || got.Logical != 0 {
		t.Fatalf("after observing stamps out of range the clock reads %+v, want the wall clock", got)
	}
}
