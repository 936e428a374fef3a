package testcluster

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"shoplist/crdt"
	"shoplist/hashring"
	"shoplist/testing/ledger"
)

func TestWritersKeepALedgerThatPullsConfirm(t *testing.T) {
	c := Start(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), WaitTimeout)
	defer cancel()
	w, err := StartWriters(ctx, WriterConfig{Endpoints: []string{c.Endpoint()}, Clients: 3, Private: 1, Shared: 1})
	if err != nil {
		t.Fatal(err)
	}
	Eventually(t, "50 pushes acknowledged", func() bool { return w.Stats().Acked >= 50 },
		func() string { return fmt.Sprintf("%+v", w.Stats()) })
	ledger, stats, err := w.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Lists()) != 4 || len(ledger.Lists()) != 4 {
		t.Fatalf("lists %v, ledger %v: want 3 private and 1 shared", w.Lists(), ledger.Lists())
	}
	v, states, err := Pull(ctx, c.Endpoint(), w.Lists(), ledger, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK() || v.Missing > 0 || v.Acknowledged < stats.Acked || len(states) != 4 {
		t.Fatalf("verdict %+v over %d states, stats %+v", v, len(states), stats)
	}
	// A ledger that claims one more acknowledged edit finds it lost.
	id := w.Lists()[0]
	ledger.Attempt(id, crdt.Normalize("never pushed"), 1, 0)
	ledger.Ack(id, crdt.Normalize("never pushed"), 1, 0)
	if v, _, _ := Pull(ctx, c.Endpoint(), w.Lists(), ledger, 0); v.Lost != 1 {
		t.Errorf("verdict %+v, want 1 lost", v)
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
	acked.Attempt(l.ID(), "milk", 1, 0)
	acked.Ack(l.ID(), "milk", 1, 0)
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
	if r := CheckReplicas(older, ring, 3, acked); r.OK() || r.Divergent != 1 || r.Lost != 1 || r.Missing != 0 {
		t.Errorf("one owner behind: %v", r)
	}
}
