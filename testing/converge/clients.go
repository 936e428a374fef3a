package converge

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"shoplist/client/replica"
	"shoplist/client/syncer"
	"shoplist/crdt"
	"shoplist/hashring"
	"shoplist/testing/ledger"
	"shoplist/testing/testcluster"
)

// SyncClient runs a client as a user runs it — a replica in dir and a sync
// engine failing over between endpoints, in that order — has it join every
// list and sync, and returns its lists.
func SyncClient(ctx context.Context, dir string, endpoints []string, lists []uuid.UUID) (map[uuid.UUID]*crdt.List, error) {
	store, err := replica.Open(dir)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	eng, err := syncer.Start(ctx, syncer.Config{Store: store, Endpoints: endpoints})
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	return SyncAll(ctx, eng, store, lists)
}

// SyncClients runs k clients with SyncClient, client i in dir(i) and
// preferring endpoint i mod len(endpoints), so that the clients read
// through different proxies, and returns each one's lists.
func SyncClients(ctx context.Context, dir func(i int) string, endpoints []string, lists []uuid.UUID, k int) ([]map[uuid.UUID]*crdt.List, error) {
	var out []map[uuid.UUID]*crdt.List
	for i := range k {
		eps := append(slices.Clone(endpoints[i%len(endpoints):]), endpoints[:i%len(endpoints)]...)
		got, err := SyncClient(ctx, dir(i), eps, lists)
		if err != nil {
			return nil, fmt.Errorf("client %d: %w", i, err)
		}
		out = append(out, got)
	}
	return out, nil
}

// SyncAll has eng join every list, waits until it has synced them all
// and returns the lists as store holds them then.
func SyncAll(ctx context.Context, eng *syncer.Engine, store *replica.Store, lists []uuid.UUID) (map[uuid.UUID]*crdt.List, error) {
	for _, id := range lists {
		if err := eng.Join(ctx, id); err != nil {
			return nil, fmt.Errorf("joining %s: %w", id, err)
		}
	}
	if err := eng.WaitSynced(ctx); err != nil {
		return nil, fmt.Errorf("syncing: %w", err)
	}
	got := map[uuid.UUID]*crdt.List{}
	for _, id := range lists {
		e, err := store.Get(id)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", id, err)
		}
		got[id] = e.List
	}
	return got, nil
}

// CompareClients returns what differs between the clients' lists, and
// every part of a client's list that lacks an acknowledged edit or holds
// one no writer attempted (ledger.Ledger.Check), named by list and part,
// with the writers whose acknowledged edit is missing. names[i] names
// client i in what it returns.
func CompareClients(names []string, states []map[uuid.UUID]*crdt.List, acked *ledger.Ledger) []string {
	var problems []string
	for _, id := range acked.Lists() {
		var first []byte
		for i, st := range states {
			l := st[id]
			if v := acked.Check(id, l); !v.OK() || v.Missing > 0 {
				problems = append(problems, fmt.Sprintf("%s, list %s: %d parts lost, %d invented", names[i], id, v.Lost, v.Invented))
				for _, f := range v.Named(20) {
					problems = append(problems, fmt.Sprintf("%s: %s", names[i], f))
				}
			}
			if l == nil {
				continue
			}
			enc := l.Encode()
			if first == nil {
				first = enc
			} else if !bytes.Equal(enc, first) {
				problems = append(problems, fmt.Sprintf("list %s: %s sees another state than %s", id, names[i], names[0]))
			}
		}
	}
	return problems
}

// CompareWithStores returns the lists whose state the first client sees
// differs from the one its first owner on ring stores.
func CompareWithStores(states []map[uuid.UUID]*crdt.List, stores []testcluster.StoredServer, ring *hashring.Ring, n int) []string {
	if len(states) == 0 {
		return nil
	}
	byID := map[string]testcluster.StoredServer{}
	for _, s := range stores {
		byID[s.ID] = s
	}
	var problems []string
	for id, l := range states[0] {
		owner := ring.Owners(id.String(), n)[0]
		stored, ok := byID[owner].Lists[id]
		if l == nil || !ok {
			continue // reported elsewhere
		}
		if !bytes.Equal(l.Encode(), stored) {
			problems = append(problems, fmt.Sprintf("list %s: the clients see another state than owner %s stores", id, owner))
		}
	}
	return problems
}

// Names returns "client 0" … "client k-1", the names CompareClients gives
// clients that have no other.
func Names(k int) []string {
	out := make([]string, k)
	for i := range out {
		out[i] = fmt.Sprintf("client %d", i)
	}
	return out
}
