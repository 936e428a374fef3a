package loadgen

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/uuid"

	"shoplist/crdt"
	"shoplist/protocol"
)

// verify reads every list of the ledger and every stored list back through
// the proxy (a Pull is a quorum read of R replicas) and checks each against
// what was acknowledged: the ledger for load lists, and for stored lists
// their fixed content (storedItems items, one wanted each).
func verify(ctx context.Context, cfg Config, ledger *Ledger, stored []uuid.UUID) (Verdict, error) {
	lists := ledger.Lists()
	_, keys := itemNames(storedItems)
	var mu sync.Mutex
	var total Verdict
	check := func(id uuid.UUID, final *crdt.List) {
		var v Verdict
		if ledger.lists[id] != nil {
			v = ledger.Check(id, final)
		} else {
			expect := NewLedger()
			for _, k := range keys {
				expect.Attempt(id, k, 1, 0)
				expect.Ack(id, k, 1, 0)
			}
			v = expect.Check(id, final)
		}
		mu.Lock()
		total.Add(v)
		mu.Unlock()
	}
	all := append(append([]uuid.UUID(nil), lists...), stored...)
	p := pipeline{endpoint: cfg.Proxy, timeout: cfg.Timeout, workers: setupWorkers, window: setupWindow, progress: cfg.Log, what: "verify"}
	err := p.run(ctx, len(all), func(i int) job {
		id := all[i]
		return job{
			build: func() protocol.Message { return protocol.NewPull(0, id) },
			done: func(reply protocol.Message) error {
				if reply.Type != protocol.TypePullReply {
					return fmt.Errorf("%w: %v to Pull", ErrUnexpectedReply, reply.Type)
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
	return total, err
}
