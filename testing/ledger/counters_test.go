package ledger

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// counterWriter is one replica editing its own copy of the list and
// recording its increments in its own Counters, the way the benchmark's
// clients do. Every push returns the delta it carries; the test decides
// which deltas reach the stored state.
type counterWriter struct {
	t      *testing.T
	clock  *crdt.Clock
	state  *crdt.List
	ledger *Counters
}

func newCounterWriter(t *testing.T, replica uuid.UUID) *counterWriter {
	wall := time.UnixMilli(1_800_000_000_000)
	now := func() time.Time { wall = wall.Add(time.Millisecond); return wall }
	return &counterWriter{t: t, clock: crdt.NewClockWith(replica, now), state: crdt.Empty(listID), ledger: NewCounters()}
}

// pull merges a state read from the cluster into the writer's copy.
func (w *counterWriter) pull(s *crdt.List) { must(w.t, w.state.Merge(s)) }

// add adds n wanted of item, records the attempt and, if acked, its
// acknowledgement, and returns the pushed delta.
func (w *counterWriter) add(item string, n int64, acked bool) *crdt.List {
	w.t.Helper()
	prev := w.state.MaxStamp()
	must(w.t, w.state.Add(w.clock, item, n))
	return w.record(prev, Edit{List: listID, Item: crdt.Normalize(item), Replica: w.clock.Replica(), Wanted: n}, acked)
}

// buy buys n of item, recorded like add.
func (w *counterWriter) buy(item string, n int64, acked bool) *crdt.List {
	w.t.Helper()
	prev := w.state.MaxStamp()
	must(w.t, w.state.Buy(w.clock, item, n))
	return w.record(prev, Edit{List: listID, Item: crdt.Normalize(item), Replica: w.clock.Replica(), Bought: n}, acked)
}

func (w *counterWriter) record(prev crdt.Timestamp, e Edit, acked bool) *crdt.List {
	w.ledger.Attempt(e)
	if acked {
		w.ledger.Ack(e)
	}
	return w.state.Delta(prev)
}

// merged is the writers' ledgers added together, as the writers' users do.
func mergedCounters(ws ...*counterWriter) *Counters {
	all := NewCounters()
	for _, w := range ws {
		all.Add(w.ledger)
	}
	return all
}

// sumOverWriters is the check per (list, item) with every writer's
// increments summed: acknowledged ≤ the item's stored total ≤ attempted.
// It is here to show what checking per replica catches that it does not.
func sumOverWriters(l *Counters, list uuid.UUID, final *crdt.List) (lost, phantom int64) {
	acked, attempted := map[string]Counts{}, map[string]Counts{}
	for p, t := range l.lists[list] {
		a, b := acked[p.item], attempted[p.item]
		a.add(t.acked)
		b.add(t.attempted)
		acked[p.item], attempted[p.item] = a, b
	}
	for key := range attempted {
		var got Counts
		if it, ok := final.Lookup(key); ok {
			got = Counts{it.Wanted, it.Bought}
		}
		lost += max(0, acked[key].Wanted-got.Wanted) + max(0, acked[key].Bought-got.Bought)
		phantom += max(0, got.Wanted-attempted[key].Wanted) + max(0, got.Bought-attempted[key].Bought)
	}
	for _, it := range final.Items() {
		if _, known := attempted[it.Key]; !known {
			phantom += it.Wanted + it.Bought
		}
	}
	return lost, phantom
}

func TestCountersACorrectRunWithSeveralWritersPasses(t *testing.T) {
	a, b := newCounterWriter(t, replicaA), newCounterWriter(t, replicaB)
	d1 := a.add("Milk", 2, true)
	d2 := a.add("bread", 1, true)
	b.pull(stored(t, d1, d2))
	d3 := b.add("milk", 1, true)
	b.add("milk", 1, false)       // timed out, never landed
	d5 := b.buy("milk", 1, false) // timed out, landed
	a.add("bread", 1, false)      // timed out; lands through the next push, which carries A's running totals
	d7 := a.add("bread", 1, true)
	d8 := a.buy("Milk", 1, true)
	final := stored(t, d1, d2, d3, d5, d7, d8)

	v := mergedCounters(a, b).Check(listID, final)
	if !v.OK() || v.Lost != 0 || v.Phantom != 0 || len(v.Failures) != 0 || v.Damaged != 0 || v.Missing != 0 {
		t.Fatalf("verdict %+v: want OK", v)
	}
	if want := int64(2 + 1 + 1 + 1 + 1); v.Acknowledged != want || v.Lists != 1 {
		t.Fatalf("verdict %+v: want %d acknowledged edits in 1 list", v, want)
	}
	if !strings.HasSuffix(v.String(), ": OK") {
		t.Errorf("summary %q does not end in OK", v.String())
	}
}

func TestCountersOneWritersLostEditIsNamedWhenAnotherWritersLandedEditBalancesTheSum(t *testing.T) {
	a, b := newCounterWriter(t, replicaA), newCounterWriter(t, replicaB)
	d1 := a.add("milk", 1, true)
	b.pull(stored(t, d1))
	d2 := b.add("milk", 1, false) // timed out, but it landed
	a.add("milk", 1, true)        // acknowledged, and then lost
	final := stored(t, d1, d2)
	ledger := mergedCounters(a, b)

	// Summed over writers, the item balances: 2 acknowledged ≤ 2 stored ≤ 3
	// attempted. The old check passes this run...
	if it, _ := final.Lookup("milk"); it.Wanted != 2 {
		t.Fatalf("stored milk %+v: want 2 wanted", it)
	}
	if lost, phantom := sumOverWriters(ledger, listID, final); lost != 0 || phantom != 0 {
		t.Fatalf("sum over writers: %d lost, %d phantom; the scenario must balance the sums", lost, phantom)
	}
	// ... though it does see the loss when nothing balances it.
	if lost, _ := sumOverWriters(ledger, listID, stored(t, d1)); lost != 1 {
		t.Fatalf("sum over writers without B's landed edit: %d lost, want 1", lost)
	}

	v := ledger.Check(listID, final)
	if v.OK() || v.Lost != 1 || v.Phantom != 0 || v.Damaged != 1 || v.Acknowledged != 2 {
		t.Fatalf("verdict %+v: want 1 lost of 2 acknowledged", v)
	}
	want := CounterFailure{List: listID, Item: "milk", Replica: replicaA,
		Stored: Counts{Wanted: 1}, Acknowledged: Counts{Wanted: 2}, Attempted: Counts{Wanted: 2}, Lost: 1}
	if len(v.Failures) != 1 || v.Failures[0] != want {
		t.Fatalf("failures %+v, want exactly %+v", v.Failures, want)
	}
	line := v.Failures[0].String()
	for _, s := range []string{listID.String(), `"milk"`, replicaA.String(), "1 lost"} {
		if !strings.Contains(line, s) {
			t.Errorf("failure %q does not name %s", line, s)
		}
	}
	if !strings.Contains(v.String(), "DATA LOST") {
		t.Errorf("summary %q does not say data was lost", v.String())
	}
}

func TestCountersOneWritersLostBuyIsNamed(t *testing.T) {
	a, b := newCounterWriter(t, replicaA), newCounterWriter(t, replicaB)
	d1 := a.add("milk", 3, true)
	b.pull(stored(t, d1))
	d2 := b.buy("milk", 1, false) // timed out, landed
	a.buy("milk", 1, true)        // acknowledged, lost
	final := stored(t, d1, d2)
	ledger := mergedCounters(a, b)
	if lost, phantom := sumOverWriters(ledger, listID, final); lost != 0 || phantom != 0 {
		t.Fatalf("sum over writers: %d lost, %d phantom; the scenario must balance the sums", lost, phantom)
	}
	v := ledger.Check(listID, final)
	if v.Lost != 1 || len(v.Failures) != 1 {
		t.Fatalf("verdict %+v: want one lost buy", v)
	}
	if f := v.Failures[0]; f.Replica != replicaA || f.Item != "milk" || f.Stored.Bought != 0 || f.Acknowledged.Bought != 1 {
		t.Fatalf("failure %v: want replica A's bought 1 acknowledged, 0 stored", f)
	}
}

func TestCountersAnEditBeyondOneWritersAttemptsIsNamed(t *testing.T) {
	a, b := newCounterWriter(t, replicaA), newCounterWriter(t, replicaB)
	d1 := a.add("milk", 1, true)
	b.pull(stored(t, d1))
	a.add("milk", 1, false) // timed out, never landed
	// B's state gains one wanted that B never pushed as an edit of its own.
	must(t, b.state.Add(b.clock, "milk", 1))
	d3 := b.add("milk", 1, true)
	final := stored(t, d1, d3)
	ledger := mergedCounters(a, b)

	// Summed: 2 acknowledged ≤ 3 stored ≤ 3 attempted.
	if lost, phantom := sumOverWriters(ledger, listID, final); lost != 0 || phantom != 0 {
		t.Fatalf("sum over writers: %d lost, %d phantom; the scenario must balance the sums", lost, phantom)
	}
	v := ledger.Check(listID, final)
	if v.OK() || v.Phantom != 1 || v.Lost != 0 || v.Damaged != 1 {
		t.Fatalf("verdict %+v: want 1 never written", v)
	}
	want := CounterFailure{List: listID, Item: "milk", Replica: replicaB,
		Stored: Counts{Wanted: 2}, Acknowledged: Counts{Wanted: 1}, Attempted: Counts{Wanted: 1}, Phantom: 1}
	if len(v.Failures) != 1 || v.Failures[0] != want {
		t.Fatalf("failures %+v, want exactly %+v", v.Failures, want)
	}
	if line := v.Failures[0].String(); !strings.Contains(line, replicaB.String()) || !strings.Contains(line, "1 never written") {
		t.Errorf("failure %q does not name replica B's invented edit", line)
	}
	if !strings.Contains(v.String(), "DATA LOST") {
		t.Errorf("summary %q does not report corruption", v.String())
	}
}

func TestCountersAReplicaOrItemNobodyRecordedIsNamed(t *testing.T) {
	a, c := newCounterWriter(t, replicaA), newCounterWriter(t, replicaC)
	d1 := a.add("milk", 1, true)
	c.pull(stored(t, d1))
	dm := c.add("milk", 2, false) // C's part of a known item
	de := c.add("eggs", 1, false) // an item nobody else has
	final := stored(t, d1, dm, de)
	v := a.ledger.Check(listID, final) // C's edits are in nobody's ledger
	if v.Phantom != 3 || v.Lost != 0 || len(v.Failures) != 2 {
		t.Fatalf("verdict %+v: want 3 never written in 2 failures", v)
	}
	for i, item := range []string{"eggs", "milk"} {
		if f := v.Failures[i]; f.Item != item || f.Replica != replicaC || f.Attempted != (Counts{}) {
			t.Errorf("failure %d: %v, want replica C's unrecorded part of %q", i, f, item)
		}
	}
}

func TestCountersAMissingListLosesEveryAcknowledgedPart(t *testing.T) {
	a, b := newCounterWriter(t, replicaA), newCounterWriter(t, replicaB)
	d1 := a.add("milk", 2, true)
	b.pull(stored(t, d1))
	b.add("milk", 1, true)
	b.add("eggs", 1, false)
	v := mergedCounters(a, b).Check(listID, nil)
	if v.Lost != 3 || v.Missing != 1 || v.Damaged != 1 || len(v.Failures) != 2 {
		t.Fatalf("verdict %+v: want 3 lost in 2 failures, the list missing", v)
	}
	if v.Failures[0].Replica != replicaA || v.Failures[1].Replica != replicaB {
		t.Errorf("failures %v: want A's and B's parts of milk", v.Failures)
	}
}

func TestCountersWholeListsAreRecordedPerReplica(t *testing.T) {
	a, b := newCounterWriter(t, replicaA), newCounterWriter(t, replicaB)
	d1 := a.add("milk", 2, true)
	d2 := b.add("milk", 1, true) // on its own copy, concurrently
	d3 := b.buy("milk", 1, true)
	whole := stored(t, d1, d2, d3)
	l := NewCounters()
	l.AttemptList(whole)
	l.AckList(whole)
	got := l.lists[listID]
	if len(got) != 2 || got[part{"milk", replicaA}].acked != (Counts{Wanted: 2}) || got[part{"milk", replicaB}].attempted != (Counts{Wanted: 1, Bought: 1}) {
		t.Fatalf("recorded %v: want A's 2 wanted and B's 1 wanted, 1 bought", got)
	}
	if v := l.Check(listID, whole); !v.OK() || v.Acknowledged != 4 {
		t.Fatalf("verdict %+v: want OK with 4 acknowledged", v)
	}
	// A whole-list record still checks each replica on its own.
	if v := l.Check(listID, stored(t, d2, d3)); v.Lost != 2 || len(v.Failures) != 1 || v.Failures[0].Replica != replicaA {
		t.Fatalf("verdict %+v: want A's 2 wanted lost", v)
	}
}

func TestCountersMergeByAddition(t *testing.T) {
	a, b := NewCounters(), NewCounters()
	a.Ack(Edit{List: listID, Item: "x", Replica: replicaA, Wanted: 1})
	b.Ack(Edit{List: listID, Item: "x", Replica: replicaA, Wanted: 2, Bought: 1})
	b.Ack(Edit{List: listID, Item: "x", Replica: replicaB, Wanted: 5})
	b.Attempt(Edit{List: listID, Item: "y", Replica: replicaB, Wanted: 1})
	a.Add(b)
	got := a.lists[listID]
	if len(got) != 3 || got[part{"x", replicaA}].acked != (Counts{3, 1}) || got[part{"x", replicaB}].acked != (Counts{5, 0}) ||
		got[part{"y", replicaB}].attempted != (Counts{1, 0}) {
		t.Fatalf("merged ledger %v", got)
	}
}

func TestCounterVerdictSaysWhetherDataWasLost(t *testing.T) {
	ok := CounterVerdict{Lists: 2, Acknowledged: 5}
	if got, want := ok.String(), "verified 2 lists by quorum read: 5 acknowledged edits, 0 lost: OK"; got != want {
		t.Errorf("OK verdict %q, want %q", got, want)
	}
	f := CounterFailure{List: listID, Item: "milk", Replica: replicaA, Stored: Counts{1, 0}, Acknowledged: Counts{2, 0}, Attempted: Counts{2, 0}, Lost: 1}
	var total CounterVerdict
	total.Add(ok)
	total.Add(CounterVerdict{Lists: 1, Acknowledged: 3, Lost: 1, Damaged: 1, Failures: []CounterFailure{f}})
	if total.OK() || total.Lists != 3 || total.Acknowledged != 8 || total.Lost != 1 || total.Damaged != 1 || len(total.Failures) != 1 {
		t.Fatalf("summed verdict %+v", total)
	}
	if got, want := total.String(), "verified 3 lists by quorum read: 8 acknowledged edits, 1 lost, 0 never written, in 1 lists (0 missing entirely): DATA LOST OR CORRUPTED"; got != want {
		t.Errorf("failed verdict %q, want %q", got, want)
	}
	wantLine := `list 11111111-1111-4111-8111-111111111111, item "milk", replica aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa: ` +
		`stored wanted 1 bought 0, acknowledged wanted 2 bought 0, attempted wanted 2 bought 0: 1 lost`
	if got := f.String(); got != wantLine {
		t.Errorf("failure %q, want %q", got, wantLine)
	}
	total.Add(CounterVerdict{Failures: []CounterFailure{f, f}})
	if got := total.Named(2); len(got) != 3 || got[0] != wantLine || got[2] != "and 1 more failures" {
		t.Errorf("named %q: want two failures and a line for the one left out", got)
	}
	if got := total.Named(5); len(got) != 3 {
		t.Errorf("named %q: want all three", got)
	}
}
