package ledger

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// writer is one client as the test clusters run them: a replica with its
// own clock and copy of the list, recording each push in its own Ledger
// under its name. Every push returns the delta it carries; the test decides
// which deltas land in the stored state.
type writer struct {
	t      *testing.T
	name   string
	clock  *crdt.Clock
	state  *crdt.List
	ledger *Ledger
}

func newWriter(t *testing.T, name string, replica uuid.UUID) *writer {
	wall := time.UnixMilli(1_800_000_000_000)
	now := func() time.Time { wall = wall.Add(time.Millisecond); return wall }
	return &writer{t: t, name: name, clock: crdt.NewClockWith(replica, now), state: crdt.Empty(listID), ledger: New()}
}

// edit is one local edit of a list.
type edit func(l *crdt.List, c *crdt.Clock) error

func rename(name string) edit {
	return func(l *crdt.List, c *crdt.Clock) error { return l.Rename(c, name) }
}
func add(item string, n int64) edit {
	return func(l *crdt.List, c *crdt.Clock) error { return l.Add(c, item, n) }
}
func set(item string, n int64) edit {
	return func(l *crdt.List, c *crdt.Clock) error { return l.SetWanted(c, item, n) }
}
func decrease(item string, n int64) edit {
	return func(l *crdt.List, c *crdt.Clock) error { return l.Decrease(c, item, n) }
}
func buy(item string, n int64) edit {
	return func(l *crdt.List, c *crdt.Clock) error { return l.Buy(c, item, n) }
}
func unbuy(item string, n int64) edit {
	return func(l *crdt.List, c *crdt.Clock) error { return l.Unbuy(c, item, n) }
}
func remove(item string) edit {
	return func(l *crdt.List, c *crdt.Clock) error { return l.Remove(c, item) }
}
func category(item, text string) edit {
	return func(l *crdt.List, c *crdt.Clock) error { return l.SetCategory(c, item, text) }
}
func note(item, text string) edit {
	return func(l *crdt.List, c *crdt.Clock) error { return l.SetNote(c, item, text) }
}

// push makes e on the writer's copy and pushes its delta: recorded as
// attempted, and as acknowledged if acked.
func (w *writer) push(e edit, acked bool) *crdt.List {
	w.t.Helper()
	d, err := w.try(e, acked)
	must(w.t, err)
	return d
}

// try is push for an edit that may be refused locally: then nothing is
// pushed or recorded (a refused edit changes nothing).
func (w *writer) try(e edit, acked bool) (*crdt.List, error) {
	prev := w.state.MaxStamp()
	if err := e(w.state, w.clock); err != nil {
		return nil, err
	}
	d := w.state.Delta(prev)
	w.ledger.Attempt(w.name, d)
	if acked {
		w.ledger.Ack(w.name, d)
	}
	return d, nil
}

// pull merges a state read from the cluster into the writer's copy.
func (w *writer) pull(s *crdt.List) { must(w.t, w.state.Merge(s)) }

// all is the writers' ledgers added together, as the writers' users do.
func all(ws ...*writer) *Ledger {
	l := New()
	for _, w := range ws {
		l.Add(w.ledger)
	}
	return l
}

// landed collects the deltas that reached the cluster.
type landed []*crdt.List

func (l *landed) add(ds ...*crdt.List) { *l = append(*l, ds...) }

func (l landed) state(t *testing.T) *crdt.List { t.Helper(); return stored(t, l...) }

func wantOK(t *testing.T, what string, v Verdict) {
	t.Helper()
	if !v.OK() || v.Lost != 0 || v.Invented != 0 || v.Damaged != 0 || v.Missing != 0 || len(v.Failures) != 0 {
		t.Fatalf("%s: verdict %v, failures %q: want OK", what, v, v.Named(10))
	}
}

// The history behind the lost-edit test: three writers edit one list
// concurrently, some pushes time out (some of those still land), and the
// last of them is one acknowledged buy by writer B.
func lostEditHistory(t *testing.T) (ws []*writer, before landed, lost *crdt.List) {
	a, b, c := newWriter(t, "writer A", replicaA), newWriter(t, "writer B", replicaB), newWriter(t, "writer C", replicaC)
	var l landed
	l.add(a.push(rename("groceries"), true), a.push(add("Milk", 2), true), a.push(add("bread", 1), true))
	b.pull(l.state(t))
	c.pull(l.state(t))
	l.add(b.push(set("milk", 5), true))             // concurrent with C's +1 on milk
	l.add(c.push(add("milk", 1), true))             //
	l.add(b.push(category("milk", "dairy"), false)) // timed out, landed
	l.add(c.push(buy("bread", 1), true))
	a.push(add("eggs", 3), false) // timed out, never landed
	l.add(b.push(note("bread", "wholemeal"), true))
	c.pull(l.state(t))
	l.add(c.push(decrease("milk", 1), true))
	a.pull(l.state(t))
	l.add(a.push(rename("weekly groceries"), true))
	b.pull(l.state(t))
	lost = b.push(buy("milk", 2), true) // acknowledged; its item is edited by nobody after
	return []*writer{a, b, c}, l, lost
}

func TestOneLostAcknowledgedEditAmongManyWritersIsNamed(t *testing.T) {
	ws, l, lost := lostEditHistory(t)
	ledger := all(ws...)

	// With the buy landed the history is correct...
	wantOK(t, "every acknowledged push landed", ledger.Check(listID, stored(t, append(l, lost)...)))

	// ... without it, that one buy is named: list, item, writer.
	final := l.state(t)
	v := ledger.Check(listID, final)
	if v.OK() || v.Lost != 1 || v.Invented != 0 || v.Damaged != 1 || v.Missing != 0 || len(v.Failures) != 1 {
		t.Fatalf("verdict %v, failures %q: want exactly one lost part", v, v.Named(10))
	}
	f := v.Failures[0]
	if f.List != listID || f.Item != "milk" || f.Kind != Lost || !slices.Equal(f.Writers, []string{"writer B"}) {
		t.Fatalf("failure %+v: want writer B's part of milk lost", f)
	}
	if !strings.Contains(f.Stored, "bought 0") || !strings.Contains(f.Bound, "bought 2") {
		t.Errorf("failure %v: want stored bought 0, and bought 2 with what was acknowledged", f)
	}
	line := f.String()
	for _, s := range []string{listID.String(), `item "milk"`, "writer B", "lost"} {
		if !strings.Contains(line, s) {
			t.Errorf("failure %q does not name %s", line, s)
		}
	}
	if want := int64(10); v.Acknowledged != want {
		t.Errorf("%d acknowledged pushes counted, want %d", v.Acknowledged, want)
	}
	if !strings.Contains(v.String(), "DATA LOST") {
		t.Errorf("summary %q does not say data was lost", v.String())
	}
}

func TestAResurrectedRemoveIsNamed(t *testing.T) {
	a, b := newWriter(t, "writer A", replicaA), newWriter(t, "writer B", replicaB)
	var l landed
	l.add(a.push(rename("groceries"), true), a.push(add("milk", 2), true), a.push(add("bread", 1), true))
	b.pull(l.state(t))
	l.add(b.push(buy("milk", 1), true))
	l.add(b.push(category("milk", "dairy"), true))
	a.pull(l.state(t))
	removal := a.push(remove("milk"), true) // acknowledged, then lost
	l.add(b.push(add("bread", 1), true))
	ledger := all(a, b)

	wantOK(t, "the remove landed", ledger.Check(listID, stored(t, append(l, removal)...)))
	if _, ok := stored(t, append(l, removal)...).Lookup("milk"); ok {
		t.Fatal("milk is present after its remove: the scenario needs the remove to take it away")
	}

	final := l.state(t)
	if _, ok := final.Lookup("milk"); !ok {
		t.Fatal("milk absent from the stored state that lacks its remove")
	}
	v := ledger.Check(listID, final)
	if v.Lost != 1 || v.Invented != 0 || len(v.Failures) != 1 {
		t.Fatalf("verdict %v, failures %q: want exactly one lost part", v, v.Named(10))
	}
	f := v.Failures[0]
	if f.Item != "milk" || f.Kind != Lost || !slices.Equal(f.Writers, []string{"writer A"}) {
		t.Fatalf("failure %+v: want writer A's remove of milk lost", f)
	}
	if !strings.HasPrefix(f.Stored, "present") || f.Bound != "removed" {
		t.Errorf("failure %v: want stored present, removed with what was acknowledged", f)
	}
}

func TestInventedEditsAreNamed(t *testing.T) {
	a, b := newWriter(t, "writer A", replicaA), newWriter(t, "writer B", replicaB)
	var l landed
	l.add(a.push(rename("groceries"), true), a.push(add("milk", 2), true), a.push(add("bread", 1), true))
	b.pull(l.state(t))
	l.add(b.push(buy("milk", 1), false)) // not acknowledged, landed: attempted, so not invented
	ledger := all(a, b)
	wantOK(t, "an unacknowledged push that landed", ledger.Check(listID, l.state(t)))

	// A replica nobody recorded edits the stored state.
	for _, tc := range []struct {
		what string
		edit edit
		item string
	}{
		{"one more wanted", add("milk", 1), "milk"},
		{"a remove", remove("bread"), "bread"},
		{"a set", set("milk", 7), "milk"},
		{"an item", add("eggs", 1), "eggs"},
		{"a note", note("bread", "rye"), "bread"},
		{"a rename", rename("not ours"), ""},
	} {
		t.Run(tc.what, func(t *testing.T) {
			stranger := newWriter(t, "stranger", uuid.MustParse("dddddddd-dddd-4ddd-8ddd-dddddddddddd"))
			stranger.pull(l.state(t))
			final := stored(t, append(l, stranger.push(tc.edit, true))...)
			v := ledger.Check(listID, final) // the stranger's ledger is not in it
			if v.Invented != 1 || v.Lost != 0 || len(v.Failures) != 1 {
				t.Fatalf("verdict %v, failures %q: want exactly one invented part", v, v.Named(10))
			}
			f := v.Failures[0]
			if f.Item != tc.item || f.Kind != Invented || len(f.Writers) != 0 {
				t.Fatalf("failure %+v: want part %q invented", f, tc.item)
			}
			if line := f.String(); !strings.Contains(line, "no writer attempted") || !strings.Contains(line, listID.String()) {
				t.Errorf("failure %q does not say the part was invented", line)
			}
		})
	}

	t.Run("the state of another list", func(t *testing.T) {
		other := crdt.Empty(uuid.MustParse("22222222-2222-4222-8222-222222222222"))
		v := ledger.Check(listID, other)
		if v.Invented != 1 || v.Lost != 2+1 {
			t.Fatalf("verdict %v, failures %q: want the name and two items lost, and the state invented", v, v.Named(10))
		}
	})
}

func TestACorrectHistoryWithConcurrentRemovesSetsAndReAddsPasses(t *testing.T) {
	a, b, c := newWriter(t, "writer A", replicaA), newWriter(t, "writer B", replicaB), newWriter(t, "writer C", replicaC)
	var l landed
	l.add(a.push(rename("groceries"), true), a.push(add("milk", 1), true), a.push(add("bread", 1), true), a.push(add("eggs", 2), true))
	b.pull(l.state(t))
	c.pull(l.state(t))

	// Concurrently: A removes milk, B sets it, C adds to it; B and C both
	// remove bread; A and C rename the list; B's set times out but lands.
	l.add(a.push(remove("milk"), true))
	l.add(b.push(set("milk", 4), false))
	l.add(c.push(add("milk", 1), true))
	l.add(b.push(remove("bread"), true))
	l.add(c.push(remove("bread"), true))
	l.add(a.push(rename("Saturday"), true))
	l.add(c.push(rename("weekend"), true))
	l.add(a.push(set("eggs", 3), true))
	l.add(b.push(add("eggs", 2), true))
	l.add(b.push(decrease("eggs", 1), true))
	c.push(category("eggs", "dairy"), false) // timed out, never landed

	// Re-adds: C re-adds the bread it removed, A re-adds it after pulling
	// both removes; B removes milk after seeing the set, A re-adds it.
	l.add(c.push(add("bread", 3), true))
	for _, w := range []*writer{a, b, c} {
		w.pull(l.state(t))
	}
	l.add(a.push(add("bread", 1), true))
	l.add(b.push(remove("milk"), true))
	l.add(b.push(buy("eggs", 1), true))
	a.pull(l.state(t))
	l.add(a.push(add("milk", 2), true))
	l.add(a.push(unbuy("eggs", 1), true))
	l.add(c.push(note("bread", "rye"), true))

	final := l.state(t)
	// The history did what it says: milk re-added fresh, bread re-added.
	if v, ok := final.Lookup("milk"); !ok || v.Wanted != 2 {
		t.Fatalf("milk %+v (present %v): want re-added with 2 wanted", v, ok)
	}
	if _, ok := final.Lookup("bread"); !ok {
		t.Fatal("bread absent: want it re-added")
	}
	ledger := all(a, b, c)
	v := ledger.Check(listID, final)
	wantOK(t, "the stored state", v)
	if v.Acknowledged != 20 || v.Lists != 1 {
		t.Errorf("verdict %v: want 20 acknowledged pushes in 1 list", v)
	}
	// Every writer's own copy, once it has pulled, passes too.
	for _, w := range []*writer{a, b, c} {
		w.pull(final)
		wantOK(t, w.name+"'s copy", ledger.Check(listID, w.state))
	}
	if !strings.HasSuffix(v.String(), ": OK") {
		t.Errorf("summary %q does not end in OK", v.String())
	}
}

// TestRandomHistoriesAreJudgedRight runs random histories of every kind
// of edit by three writers, with pulls, pushes that time out (half of
// which land) and refused local edits (skipped). With every acknowledged
// push landed the verdict is OK; with any one acknowledged push dropped,
// it names that push's writer exactly when the rest do not hold the push
// (a later push of the same item carries what it carried).
func TestRandomHistoriesAreJudgedRight(t *testing.T) {
	names := []string{"milk", "bread", "eggs", "jam"}
	caught := 0
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 7))
		ws := []*writer{newWriter(t, "writer A", replicaA), newWriter(t, "writer B", replicaB), newWriter(t, "writer C", replicaC)}
		type push struct {
			delta  *crdt.List
			writer string
			acked  bool
		}
		var pushes []push
		var l landed
		for range 120 {
			w := ws[rng.IntN(len(ws))]
			if rng.IntN(4) == 0 {
				w.pull(l.state(t))
				continue
			}
			item := names[rng.IntN(len(names))]
			n := int64(1 + rng.IntN(3))
			e := []edit{add(item, n), set(item, n), decrease(item, 1), buy(item, 1), unbuy(item, 1), remove(item),
				rename(fmt.Sprintf("list %d", n)), category(item, "aisle"), note(item, "note")}[rng.IntN(9)]
			acked := rng.IntN(3) != 0
			d, err := w.try(e, acked)
			if err != nil {
				continue // refused locally: skipped, never pushed
			}
			pushes = append(pushes, push{d, w.name, acked})
			if acked || rng.IntN(2) == 0 {
				l.add(d)
			}
		}
		ledger := all(ws...)
		wantOK(t, fmt.Sprintf("seed %d, every acknowledged push landed", seed), ledger.Check(listID, l.state(t)))

		for i, p := range pushes {
			if !p.acked {
				continue
			}
			var rest landed
			for _, d := range l {
				if d != p.delta {
					rest.add(d)
				}
			}
			s := rest.state(t)
			v := ledger.Check(listID, s)
			if sameBytes(mustJoin(p.delta, s), s) {
				wantOK(t, fmt.Sprintf("seed %d, push %d dropped but held by the others", seed, i), v)
				continue
			}
			caught++
			named := false
			for _, f := range v.Failures {
				if f.Kind != Lost {
					t.Fatalf("seed %d: failure %v: a dropped push invents nothing", seed, f)
				}
				if inDelta := f.Item == "" && p.delta.Name() != "" || slices.Contains(p.delta.ItemKeys(), f.Item); !inDelta {
					t.Fatalf("seed %d: failure %v names a part the dropped push did not carry", seed, f)
				}
				named = named || slices.Contains(f.Writers, p.writer)
			}
			if v.Lost == 0 || v.Invented != 0 || !named {
				t.Fatalf("seed %d: push %d by %s dropped: verdict %v, failures %q", seed, i, p.writer, v, v.Named(10))
			}
		}
	}
	if caught < 50 {
		t.Fatalf("only %d dropped pushes were not held by the others: the test checks too little", caught)
	}
	t.Logf("%d dropped acknowledged pushes named", caught)
}

func TestAMissingListLosesEveryAcknowledgedPart(t *testing.T) {
	a, b := newWriter(t, "writer A", replicaA), newWriter(t, "writer B", replicaB)
	d := a.push(rename("groceries"), true)
	a.push(add("milk", 1), true)
	b.pull(d)
	b.push(add("eggs", 1), true)
	b.push(add("jam", 1), false)
	v := all(a, b).Check(listID, nil)
	if v.Missing != 1 || v.Lost != 3 || v.Invented != 0 || len(v.Failures) != 3 {
		t.Fatalf("verdict %v, failures %q: want the name, milk and eggs lost, the list missing", v, v.Named(10))
	}
	want := []struct {
		item, writer string
	}{{"", "writer A"}, {"eggs", "writer B"}, {"milk", "writer A"}}
	for i, w := range want {
		if f := v.Failures[i]; f.Item != w.item || !slices.Equal(f.Writers, []string{w.writer}) {
			t.Errorf("failure %d: %+v, want part %q held by %s", i, f, w.item, w.writer)
		}
	}
	if v.Failures[1].Stored != "absent" {
		t.Errorf("failure %v: want the stored part absent", v.Failures[1])
	}
	// A list nobody acknowledged anything of is not missing when absent.
	c := newWriter(t, "writer C", replicaC)
	c.push(add("milk", 1), false)
	wantOK(t, "nothing acknowledged, nothing stored", c.ledger.Check(listID, nil))
}

func TestLedgersAddUp(t *testing.T) {
	ws, l, lost := lostEditHistory(t)
	one := New() // one ledger written by every writer in turn
	for _, w := range ws {
		for _, id := range w.ledger.Lists() {
			acked, attempted := w.ledger.Bounds(id)
			one.Attempt(w.name, attempted)
			one.Ack(w.name, acked)
		}
	}
	summed := all(ws...)
	final := l.state(t)
	got, want := summed.Check(listID, final), one.Check(listID, final)
	if got.Lost != 1 || want.Lost != 1 || !slices.Equal(got.Failures[0].Writers, want.Failures[0].Writers) {
		t.Fatalf("added ledgers: %v %q; one ledger: %v %q", got, got.Named(5), want, want.Named(5))
	}
	if attempts, acks := summed.Counts(listID); attempts != 12 || acks != 10 {
		t.Errorf("counts: %d attempted, %d acknowledged; want 12 and 10", attempts, acks)
	}
	if w := summed.Writers(); !slices.Equal(w, []string{"writer A", "writer B", "writer C"}) {
		t.Errorf("writers %q", w)
	}
	wantOK(t, "with the lost push", summed.Check(listID, stored(t, append(l, lost)...)))
}

func TestSentNamesAReadPartNobodySent(t *testing.T) {
	a, b := newWriter(t, "writer A", replicaA), newWriter(t, "writer B", replicaB)
	sent := NewSent()
	var wg sync.WaitGroup
	var l landed
	for _, d := range []*crdt.List{a.push(rename("groceries"), true), a.push(add("milk", 2), true)} {
		l.add(d)
		wg.Go(func() { sent.Add(d) }) // writers add side by side
	}
	wg.Wait()
	b.pull(l.state(t))
	d := b.push(buy("milk", 1), false)
	sent.Add(d)
	if f := sent.Check(stored(t, append(l, d)...)); len(f) != 0 {
		t.Fatalf("a read of what was sent: %q, want nothing", f)
	}
	// A state read with a part nobody sent: pulled by a writer, it would be
	// pushed again and be attempted by the final check's reckoning.
	stranger := newWriter(t, "stranger", replicaC)
	stranger.pull(l.state(t))
	read := stored(t, append(l, stranger.push(note("milk", "organic"), true))...)
	f := sent.Check(read)
	if len(f) != 1 || f[0].Item != "milk" || f[0].Kind != Invented || !strings.Contains(f[0].Stored, `note "organic"`) {
		t.Fatalf("failures %q: want milk's note invented", f)
	}
	if f := sent.Check(crdt.Empty(uuid.MustParse("22222222-2222-4222-8222-222222222222"))); len(f) != 0 {
		t.Errorf("an empty read of an unknown list: %q", f)
	}
}

func TestVerdictSaysWhetherDataWasLost(t *testing.T) {
	ok := Verdict{Lists: 2, Acknowledged: 5}
	if got, want := ok.String(), "checked 2 lists: 5 acknowledged pushes, 0 parts lost, 0 invented: OK"; got != want {
		t.Errorf("OK verdict %q, want %q", got, want)
	}
	f := Failure{List: listID, Item: "milk", Kind: Lost, Writers: []string{"writer A"}, Stored: "removed", Bound: "present, wanted 1, bought 0"}
	var total Verdict
	total.Add(ok)
	total.Add(Verdict{Lists: 1, Acknowledged: 3, Lost: 1, Damaged: 1, Failures: []Failure{f}})
	if total.OK() || total.Lists != 3 || total.Acknowledged != 8 || total.Lost != 1 || total.Damaged != 1 || len(total.Failures) != 1 {
		t.Fatalf("summed verdict %+v", total)
	}
	if got, want := total.String(), "checked 3 lists: 8 acknowledged pushes, 1 parts lost, 0 invented, in 1 lists (0 missing entirely): DATA LOST OR CORRUPTED"; got != want {
		t.Errorf("failed verdict %q, want %q", got, want)
	}
	wantLine := `list 11111111-1111-4111-8111-111111111111, item "milk": acknowledged edit lost, held by the acknowledged state of writer A: ` +
		`stored removed; with what was acknowledged: present, wanted 1, bought 0`
	if got := f.String(); got != wantLine {
		t.Errorf("failure %q, want %q", got, wantLine)
	}
	name := Failure{List: listID, Kind: Invented, Stored: `name "x"`, Bound: `name "x"`}
	if got := name.String(); !strings.Contains(got, "the list's name: holds what no writer attempted") || !strings.Contains(got, "not in what they show") {
		t.Errorf("name failure %q", got)
	}
	total.Add(Verdict{Failures: []Failure{f, f}})
	if got := total.Named(2); len(got) != 3 || got[0] != wantLine || got[2] != "and 1 more failures" {
		t.Errorf("named %q: want two failures and a line for the one left out", got)
	}
}

// TestAStoredStateThatForgotOldRemovesPasses: a stored state compacted at a
// floor (it forgot the tombstone of a removed item, as servers do after the
// horizon) is still judged correct; a lost acknowledged edit after the
// floor is still named.
func TestAStoredStateThatForgotOldRemovesPasses(t *testing.T) {
	a := newWriter(t, "writer A", replicaA)
	var l landed
	l.add(a.push(rename("groceries"), true), a.push(add("milk", 2), true), a.push(add("eggs", 1), true))
	l.add(a.push(remove("eggs"), true))
	s := l.state(t)
	s.Compact(s.MaxStamp())
	if s.Tombstones() != 0 {
		t.Fatal("control: the stored state should have forgotten eggs")
	}
	wantOK(t, "compacted state", all(a).Check(listID, s))

	lost := a.push(add("milk", 1), true)
	_ = lost // acknowledged, but the stored state never got it
	if v := all(a).Check(listID, s); v.Lost == 0 {
		t.Fatalf("verdict %v: the lost +1 on milk after the floor is not named", v)
	}
}

// TestAnEditCancelledByAnUnacknowledgedRemoveThenForgottenPasses: writer
// B's +1 is acknowledged; writer A's remove, which saw it, timed out but
// landed; the servers then forgot the item at their floor. The stored
// state lacks the +1 and the remove alike, and is correct: the remove was
// sent. Without the remove among the attempts the same state loses the +1.
func TestAnEditCancelledByAnUnacknowledgedRemoveThenForgottenPasses(t *testing.T) {
	a, b := newWriter(t, "writer A", replicaA), newWriter(t, "writer B", replicaB)
	var l landed
	l.add(a.push(rename("groceries"), true), a.push(add("milk", 1), true), a.push(add("eggs", 2), true))
	b.pull(l.state(t))
	l.add(b.push(add("eggs", 1), true))
	a.pull(l.state(t))
	l.add(a.push(remove("eggs"), false)) // timed out, landed
	s := l.state(t)
	s.Compact(s.MaxStamp())
	if _, kept := s.Lookup("eggs"); kept || s.Tombstones() != 0 {
		t.Fatal("control: the stored state should have forgotten eggs")
	}
	wantOK(t, "forgotten after an unacknowledged remove", all(a, b).Check(listID, s))

	// Writer B alone never sent the remove: for its ledger the +1 is lost.
	if v := all(b).Check(listID, s); v.Lost == 0 {
		t.Fatalf("verdict %v: without the remove among the attempts, the +1 must be lost", v)
	}
}
