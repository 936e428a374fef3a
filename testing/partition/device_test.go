//go:build partition

package partition

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"shoplist/client/replica"
	"shoplist/client/syncer"
	"shoplist/crdt"
	"shoplist/testing/ledger"
	"shoplist/testing/testcluster"
)

// device is a client as a person runs it: a replica on disk and a sync
// engine that pushes its edits whenever it is online and fails over
// between proxies. It edits the shared lists on its own clock, online or
// not. A local edit is saved before Edit returns: for a local-first
// client that is the acknowledgement, so each is recorded in the ledger
// as acknowledged once saved, and the cluster must hold it after the heal
// and a sync.
type device struct {
	name   string
	store  *replica.Store
	eng    *syncer.Engine
	lists  []uuid.UUID
	sent   testcluster.Sent
	ledger *ledger.Ledger // guarded by the loop until stop returns
	rng    *rand.Rand
	items  int

	edits, offline atomic.Int64
	cancel         context.CancelFunc
	wg             sync.WaitGroup
	err            error // a local failure that stopped it early
}

// startDevice opens a replica in dir, starts its engine on endpoints, joins
// every list (the network is whole when devices start) and starts editing
// every pace.
func startDevice(ctx context.Context, name, dir string, endpoints []string, lists []uuid.UUID, items int,
	sent testcluster.Sent, seed uint64, pace time.Duration) (*device, error) {
	store, err := replica.Open(dir)
	if err != nil {
		return nil, err
	}
	// The engine runs until close, past ctx, which bounds the start only.
	eng, err := syncer.Start(context.Background(), syncer.Config{Store: store, Endpoints: endpoints})
	if err != nil {
		store.Close()
		return nil, err
	}
	d := &device{name: fmt.Sprintf("%s (replica %s)", name, store.ReplicaID()), store: store, eng: eng, lists: lists,
		sent: sent, ledger: ledger.New(), rng: rand.New(rand.NewPCG(seed, seed^0x5bd1e995)), items: items}
	for _, id := range lists {
		if err := eng.Join(ctx, id); err != nil {
			d.close()
			return nil, fmt.Errorf("%s: joining %s: %w", name, id, err)
		}
	}
	runCtx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.run(runCtx, pace)
	}()
	return d, nil
}

// run edits until ctx ends.
func (d *device) run(ctx context.Context, pace time.Duration) {
	for ctx.Err() == nil {
		if err := d.edit(); err != nil {
			d.err = err
			return
		}
		select { // pacing, not synchronisation
		case <-ctx.Done():
		case <-time.After(pace):
		}
	}
}

// edit makes one edit of a random list, saved durably, and records it:
// joined into the test's Sent before the engine can push it, then into the
// ledger as attempted and, once saved, as acknowledged.
func (d *device) edit() error {
	id := d.lists[d.rng.IntN(len(d.lists))]
	name := fmt.Sprintf("item %02d", d.rng.IntN(d.items))
	var delta *crdt.List
	refused := false
	_, _, err := d.store.Edit(id, func(l *crdt.List, c *crdt.Clock) error {
		prev := l.MaxStamp()
		if _, err := testcluster.RandomEdit(l, c, d.rng, d.name, name); err != nil {
			refused = true
			return err
		}
		delta = l.Delta(prev)
		d.sent.Add(delta)
		d.ledger.Attempt(d.name, delta)
		return nil
	})
	if refused {
		return nil // the list refused the edit: nothing changed
	}
	if err != nil {
		return fmt.Errorf("%s: saving an edit: %w", d.name, err)
	}
	d.ledger.Ack(d.name, delta)
	d.edits.Add(1)
	if d.eng.Status().Conn != syncer.Online {
		d.offline.Add(1)
	}
	d.eng.Kick(id)
	return nil
}

// stop stops editing and returns the ledger of every edit made.
func (d *device) stop() (*ledger.Ledger, error) {
	d.cancel()
	d.wg.Wait()
	return d.ledger, d.err
}

func (d *device) close() {
	d.eng.Close()
	d.store.Close()
}
