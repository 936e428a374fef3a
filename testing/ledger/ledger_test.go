package ledger

import (
	"fmt"
	"testing"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// scenario builds a list created by one replica with three items (one
// wanted each), with some later edits recorded in a ledger the way the
// writers record them.
func scenario(t *testing.T) (l *crdt.List, ledger *Ledger, key string) {
	t.Helper()
	c := crdt.NewClock(uuid.New())
	var names, keys []string
	for i := range 3 {
		names = append(names, fmt.Sprintf("item %03d", i))
		keys = append(keys, crdt.Normalize(names[i]))
	}
	l, err := crdt.New(c, "verify")
	must(t, err)
	for _, n := range names {
		must(t, l.Add(c, n, 1))
	}
	ledger = New()
	ledger.AttemptList(l)
	ledger.AckList(l)
	for range 4 {
		must(t, l.Add(c, names[1], 1))
		ledger.Attempt(l.ID(), keys[1], 1, 0)
		ledger.Ack(l.ID(), keys[1], 1, 0)
	}
	must(t, l.Buy(c, names[1], 2))
	ledger.Attempt(l.ID(), keys[1], 0, 2)
	ledger.Ack(l.ID(), keys[1], 0, 2)
	return l, ledger, keys[1]
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestVerifierPassesACompleteState(t *testing.T) {
	l, ledger, _ := scenario(t)
	v := ledger.Check(l.ID(), l)
	if !v.OK() || v.Lost != 0 || v.Acknowledged != 3+4+2 {
		t.Fatalf("verdict %+v: want OK with 9 acknowledged edits", v)
	}
}

func TestVerifierDetectsALostWrite(t *testing.T) {
	l, ledger, key := scenario(t)
	// One more acknowledged add that the final state does not hold.
	ledger.Attempt(l.ID(), key, 1, 0)
	ledger.Ack(l.ID(), key, 1, 0)
	v := ledger.Check(l.ID(), l)
	if v.OK() || v.Lost != 1 || v.Damaged != 1 {
		t.Fatalf("verdict %+v: want exactly 1 lost", v)
	}
}

func TestVerifierAcceptsAnUnacknowledgedWriteEitherWay(t *testing.T) {
	l, ledger, key := scenario(t)
	ledger.Attempt(l.ID(), key, 1, 0) // sent, never acknowledged, not stored
	if v := ledger.Check(l.ID(), l); !v.OK() {
		t.Fatalf("an unacknowledged write that did not land: %+v, want OK", v)
	}
	c := crdt.NewClock(uuid.New())
	must(t, l.Add(c, key, 1)) // ... or that did land
	if v := ledger.Check(l.ID(), l); !v.OK() {
		t.Fatalf("an unacknowledged write that landed: %+v, want OK", v)
	}
}

func TestVerifierDetectsAMissingListAndInventedEdits(t *testing.T) {
	l, ledger, _ := scenario(t)
	if v := ledger.Check(l.ID(), nil); v.Lost != 9 || v.Missing != 1 {
		t.Fatalf("missing list: %+v, want 9 lost, 1 missing", v)
	}
	c := crdt.NewClock(uuid.New())
	must(t, l.Add(c, "never pushed", 2))
	if v := ledger.Check(l.ID(), l); v.OK() || v.Phantom != 2 {
		t.Fatalf("invented item: %+v, want 2 phantom", v)
	}
}

func TestLedgersMergeByAddition(t *testing.T) {
	id := uuid.New()
	a, b := New(), New()
	a.Ack(id, "x", 1, 0)
	b.Ack(id, "x", 2, 1)
	b.Attempt(id, "y", 1, 0)
	a.Add(b)
	got := a.lists[id]
	if got["x"].acked != (counts{3, 1}) || got["y"].attempted != (counts{1, 0}) {
		t.Fatalf("merged ledger %+v %+v", *got["x"], *got["y"])
	}
}

func TestVerdictSaysWhetherDataWasLost(t *testing.T) {
	ok := Verdict{Lists: 2, Acknowledged: 5}
	if got, want := ok.String(), "verified 2 lists by quorum read: 5 acknowledged edits, 0 lost: OK"; got != want {
		t.Errorf("OK verdict %q, want %q", got, want)
	}
	var total Verdict
	total.Add(ok)
	total.Add(Verdict{Lists: 1, Acknowledged: 3, Lost: 1, Damaged: 1})
	if total.OK() || total.Lists != 3 || total.Acknowledged != 8 || total.Lost != 1 || total.Damaged != 1 {
		t.Fatalf("summed verdict %+v", total)
	}
	if got, want := total.String(), "verified 3 lists by quorum read: 8 acknowledged edits, 1 lost, 0 never written, in 1 lists (0 missing entirely): DATA LOST OR CORRUPTED"; got != want {
		t.Errorf("failed verdict %q, want %q", got, want)
	}
}
