package testcluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"shoplist/crdt"
	"shoplist/hashring"
	"shoplist/protocol"
	"shoplist/testing/ledger"
)

func TestWritersMakeEveryKindOfEditAndPullsConfirmTheLedger(t *testing.T) {
	c := Start(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), WaitTimeout)
	defer cancel()
	w, err := StartWriters(ctx, WriterConfig{Endpoints: []string{c.Endpoint()}, Clients: 3, Private: 1, Shared: 1, Items: 4})
	if err != nil {
		t.Fatal(err)
	}
	Eventually(t, "every kind of edit acknowledged, 150 pushes and some pulls in all", func() bool {
		st := w.Stats()
		for _, k := range EditKinds {
			if st.Kinds[k].Acked == 0 {
				return false
			}
		}
		return st.Acked >= 150 && st.Pulls > 0
	}, func() string { return fmt.Sprintf("%+v", w.Stats()) })
	acked, stats, err := w.Stop()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("writers: %+v", stats)
	if len(w.Lists()) != 4 || len(acked.Lists()) != 4 || len(acked.Writers()) != 3 {
		t.Fatalf("lists %v, ledger %v of %q: want 3 private and 1 shared, by 3 writers", w.Lists(), acked.Lists(), acked.Writers())
	}
	var attempted, ok int64
	for _, k := range stats.Kinds {
		attempted, ok = attempted+k.Attempted, ok+k.Acked
	}
	if attempted != stats.Attempted || ok != stats.Acked || stats.BadPulls != 0 {
		t.Fatalf("stats %+v: the kinds do not add up to the totals, or a pull was bad", stats)
	}
	v, states, err := Pull(ctx, c.Endpoint(), w.Lists(), acked, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Every push acknowledged is checked, the lists' creations included.
	if !v.OK() || v.Missing > 0 || v.Acknowledged != stats.Acked+4 || len(states) != 4 {
		t.Fatalf("verdict %v over %d states, stats %+v; failures %q", v, len(states), stats, v.Named(10))
	}

	// A ledger that claims one more acknowledged edit by writer 1 on the
	// shared list (created by writer 0) finds that writer's edit lost.
	shared, cl := w.clients[0].lists[1], w.clients[1]
	if shared.Name() == "" || !cl.shared[1] || cl.lists[1].ID() != shared.ID() {
		t.Fatalf("writer 0's second list %q is not the shared list writer 1 holds", shared.Name())
	}
	mine := cl.lists[1]
	prev := mine.MaxStamp()
	if err := mine.Add(cl.clock, "never pushed", 1); err != nil {
		t.Fatal(err)
	}
	forged := ledger.New()
	forged.Add(acked)
	forged.Ack(cl.name, mine.Delta(prev))
	v, _, err = Pull(ctx, c.Endpoint(), w.Lists(), forged, 0)
	if err != nil {
		t.Fatal(err)
	}
	if v.Lost != 1 || v.Invented != 0 || len(v.Failures) != 1 {
		t.Fatalf("verdict %v, failures %q: want 1 lost part", v, v.Named(10))
	}
	if f := v.Failures[0]; f.List != shared.ID() || f.Item != crdt.Normalize("never pushed") || !slices.Equal(f.Writers, []string{cl.name}) {
		t.Errorf("failure %v, want writer 1's item on the shared list", f)
	}

	// A push nobody recorded is found invented.
	stranger := crdt.NewClock(uuid.New())
	edit := crdt.Empty(shared.ID())
	if err := edit.Add(stranger, "unrecorded", 1); err != nil {
		t.Fatal(err)
	}
	expect(t, dial(t, c.Endpoint()), protocol.NewPush(0, shared.ID(), edit.Encode()), protocol.TypeOK)
	v, _, err = Pull(ctx, c.Endpoint(), w.Lists(), acked, 0)
	if err != nil {
		t.Fatal(err)
	}
	if v.Invented != 1 || v.Lost != 0 || len(v.Failures) != 1 || v.Failures[0].Item != "unrecorded" || v.Failures[0].Kind != ledger.Invented {
		t.Fatalf("verdict %v, failures %q: want the unrecorded item invented", v, v.Named(10))
	}
}

// TestWritersNameAPulledStateThatNobodySent: a state holding what no
// writer sent, pulled while they run, makes Stop fail naming it.
func TestWritersNameAPulledStateThatNobodySent(t *testing.T) {
	c := Start(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), WaitTimeout)
	defer cancel()
	w, err := StartWriters(ctx, WriterConfig{Endpoints: []string{c.Endpoint()}, Clients: 2, Private: 1, Shared: 1, Items: 4})
	if err != nil {
		t.Fatal(err)
	}
	shared := w.clients[0].lists[1].ID()
	edit := crdt.Empty(shared)
	if err := edit.Add(crdt.NewClock(uuid.New()), "smuggled", 1); err != nil {
		t.Fatal(err)
	}
	expect(t, dial(t, c.Endpoint()), protocol.NewPush(0, shared, edit.Encode()), protocol.TypeOK)
	Eventually(t, "a writer pulls the smuggled item", func() bool { return w.Stats().BadPulls > 0 },
		func() string { return fmt.Sprintf("%+v", w.Stats()) })
	_, _, err = w.Stop()
	if err == nil || !strings.Contains(err.Error(), `item "smuggled"`) || !strings.Contains(err.Error(), "no writer had sent") {
		t.Fatalf("Stop: %v; want the smuggled item named", err)
	}
}

func TestCheckReplicasFindsMissingDivergentAndLostCopies(t *testing.T) {
	clock := crdt.NewClock(uuid.New())
	l, err := crdt.New(clock, "checked")
	if err != nil {
		t.Fatal(err)
	}
	before := l.Encode()
	if err := l.Add(clock, "milk", 1); err != nil {
		t.Fatal(err)
	}
	full := l.Encode()
	acked := ledger.New()
	acked.Attempt("writer A", l)
	acked.Ack("writer A", l)
	ids := []string{"a", "b", "c", "d"}
	ring := hashring.New(ids)
	owners := ring.Owners(l.ID().String(), 3)
	store := func(id string, enc []byte) StoredServer {
		s := StoredServer{ID: id, Lists: map[uuid.UUID][]byte{}}
		if enc != nil {
			s.Lists[l.ID()] = enc
		}
		return s
	}
	var nonOwner string
	for _, id := range ids {
		if id != owners[0] && id != owners[1] && id != owners[2] {
			nonOwner = id
		}
	}
	if nonOwner == "" {
		t.Fatalf("owners %v of 4 servers leave none out", owners)
	}
	good := []StoredServer{store(owners[0], full), store(owners[1], full), store(owners[2], full), store(nonOwner, nil)}
	if r := CheckReplicas(good, ring, 3, acked); !r.OK() || r.Replicas != 3 || r.Stray != 0 {
		t.Errorf("all owners identical: %v %v", r, r.Problems)
	}
	// An owner without the list, and a stray copy on the non-owner.
	bad := []StoredServer{store(owners[0], full), store(owners[1], full), store(owners[2], nil), store(nonOwner, full)}
	if r := CheckReplicas(bad, ring, 3, acked); r.OK() || r.Missing != 1 || r.Stray != 1 {
		t.Errorf("one owner missing: %v", r)
	}
	// An owner with an older copy: divergent, and the edit is lost there.
	older := []StoredServer{store(owners[0], full), store(owners[1], before), store(owners[2], full), store(nonOwner, nil)}
	r := CheckReplicas(older, ring, 3, acked)
	if r.OK() || r.Divergent != 1 || r.Lost != 1 || r.Missing != 0 {
		t.Errorf("one owner behind: %v", r)
	}
	named := false
	for _, p := range r.Problems {
		named = named || strings.Contains(p, `item "milk"`) && strings.Contains(p, "writer A") && strings.Contains(p, "owner "+owners[1])
	}
	if !named {
		t.Errorf("problems %q do not name the item and writer whose edit owner %s lost", r.Problems, owners[1])
	}
	// An owner with an edit nobody attempted: divergent, and invented there.
	if err := l.SetNote(crdt.NewClock(uuid.New()), "milk", "organic"); err != nil {
		t.Fatal(err)
	}
	more := []StoredServer{store(owners[0], full), store(owners[1], full), store(owners[2], l.Encode()), store(nonOwner, nil)}
	if r := CheckReplicas(more, ring, 3, acked); r.OK() || r.Divergent != 1 || r.Phantom != 1 || r.Lost != 0 {
		t.Errorf("one owner with an invented note: %v %q", r, r.Problems)
	}
}

// TestWritersOfTwoSetsShareListsAndOneSent: writers given another set's
// shared lists (SharedLists) write to them under names of their own
// (FirstIndex), every client starting on the first endpoint (SameStart),
// and both sets record in one Sent, so each checks what the other sent.
func TestWritersOfTwoSetsShareListsAndOneSent(t *testing.T) {
	c := Start(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), WaitTimeout)
	defer cancel()
	sent := ledger.NewSent()
	a, err := StartWriters(ctx, WriterConfig{Endpoints: []string{c.Endpoint()}, Clients: 2, Private: 1, Shared: 1, Items: 4, Sent: sent})
	if err != nil {
		t.Fatal(err)
	}
	shared := a.Shared()
	b, err := StartWriters(ctx, WriterConfig{Endpoints: []string{c.Endpoint(), "tcp://127.0.0.1:1"}, Clients: 2, Private: 1,
		SharedLists: shared, Items: 4, FirstIndex: 2, SameStart: true, Sent: sent})
	if err != nil {
		t.Fatal(err)
	}
	if len(shared) != 1 || !slices.Equal(b.Shared(), shared) || !slices.Contains(b.Lists(), shared[0]) || len(b.Lists()) != 3 {
		t.Fatalf("shared %v, the second set's shared %v and lists %v: want the first's one shared list among its 2 own", shared, b.Shared(), b.Lists())
	}
	Eventually(t, "both sets write, the second's pulls of the shared list checked", func() bool {
		return a.Stats().Acked >= 50 && b.Stats().Acked >= 50 && b.Stats().Pulls > 0
	}, func() string { return fmt.Sprintf("%+v / %+v", a.Stats(), b.Stats()) })
	la, _, errA := a.Stop()
	lb, sb, errB := b.Stop()
	if errA != nil || errB != nil {
		t.Fatalf("stopping: %v / %v", errA, errB)
	}
	if sb.Failovers != 0 || sb.TimedOut != 0 {
		t.Fatalf("the second set's stats %+v: a client started on the unreachable second endpoint", sb)
	}
	all := ledger.New()
	all.Add(la)
	all.Add(lb)
	if names := all.Writers(); len(names) != 4 || !strings.HasPrefix(names[2], "writer 2 ") || !strings.HasPrefix(names[3], "writer 3 ") {
		t.Fatalf("writers %q: want writers 0 to 3", names)
	}
	v, _, err := Pull(ctx, c.Endpoint(), all.Lists(), all, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK() || v.Missing > 0 {
		t.Fatalf("verdict %v; failures %q", v, v.Named(10))
	}
}
