package loadgen

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/uuid"

	"shoplist/crdt"
	"shoplist/internal/dealer"
	"shoplist/protocol"
	"shoplist/testing/ledger"
)

// verify reads every list of the ledger and every stored list back through
// the proxy (a Pull is a quorum read of R replicas) and checks each against
// what was acknowledged: the ledger for load lists, and for stored lists
// their fixed content (storedItems items, one wanted each, all written by
// the replica storedBy).
func verify(ctx context.Context, cfg Config, acked *ledger.Counters, stored []uuid.UUID, storedBy uuid.UUID) (ledger.CounterVerdict, error) {
	lists := acked.Lists()
	expect := ledger.NewCounters()
	expect.Add(acked)
	_, keys := itemNames(storedItems)
	for _, id := range stored {
		for _, k := range keys {
			e := ledger.Edit{List: id, Item: k, Replica: storedBy, Wanted: 1}
			expect.Attempt(e)
			expect.Ack(e)
		}
	}
	var mu sync.Mutex
	var total ledger.CounterVerdict // guarded by mu while the pipeline runs
	check := func(id uuid.UUID, final *crdt.List) {
		v := expect.Check(id, final) // read-only: the pipeline's workers check side by side
		mu.Lock()
		total.Add(v)
		mu.Unlock()
	}
	all := append(append([]uuid.UUID(nil), lists...), stored...)
	p := pipeline{endpoint: cfg.endpoint(0), timeout: cfg.Timeout, workers: setupWorkers, window: setupWindow, progress: cfg.Log, what: "verify"}
	err := p.run(ctx, len(all), func(i int) job {
		id := all[i]
		return job{
			build: func() protocol.Message { return protocol.NewPull(0, id) },
			done: func(reply protocol.Message) error {
				if reply.Type != protocol.TypePullReply {
					return fmt.Errorf("%w: %v to Pull", dealer.ErrUnexpectedReply, reply.Type)
				}
				var final *crdt.List
				if len(reply.Body) > 0 {
					l, err := crdt.Decode(reply.Body)
					if err != nil {
						return fmt.Errorf("loadgen: list %s: %w", id, err)
					}
					final = l
				}
				check(id, final)
				return nil
			},
		}
	})
	return total, err // every worker is done: total is ours again
}
