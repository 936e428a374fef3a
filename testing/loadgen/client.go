package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"shoplist/crdt"
	"shoplist/internal/dealer"
	"shoplist/protocol"
	"shoplist/testing/ledger"
)

// items is the shape shared by every load list: display names and keys.
type items struct{ names, keys []string }

// client is one simulated client: its own replica (clock), a local state
// of every list it works on, and one DEALER with one request outstanding
// at a time. Everything in it belongs to the goroutine running run.
//
// Its connection is a plain dealer.Conn, with no Hello, no reconnection
// and no failover, unlike the sync engine's: the benchmark measures the
// cluster's round trip, so a request costs one send and one receive and
// nothing else, and a request that times out is counted, not retried.
type client struct {
	conn    *dealer.Conn
	clock   *crdt.Clock
	lists   []*crdt.List // local replicas of the lists it works on
	items   items
	mix     float64 // fraction of operations that are pushes
	rng     *rand.Rand
	pending *pending // shared with the subscribers

	ledger     *ledger.Counters
	push, pull Histogram
	failures   map[string]int // failed requests by errorKey

	// Pulls name the local state they hold (a PullBody) unless fullPulls:
	// known caches the StateHash of each list's encoding until the list
	// changes (a push's edit, a pull's merge), and unchanged counts the
	// pulls answered Unchanged.
	fullPulls bool
	known     map[uuid.UUID]uint64
	unchanged int
}

// run performs operations until end; operations started before
// measureFrom are the warm-up and not timed. A request still in flight at
// end is finished (or times out), so every push is either acknowledged or
// not before verification starts.
func (cl *client) run(ctx context.Context, measureFrom, end time.Time) error {
	for {
		now := time.Now()
		if !now.Before(end) {
			return nil
		}
		measured := !now.Before(measureFrom)
		l := cl.lists[cl.rng.IntN(len(cl.lists))]
		var err error
		if cl.rng.Float64() < cl.mix {
			err = cl.pushOne(ctx, l, measured)
		} else {
			err = cl.pullOne(ctx, l, measured)
		}
		if err != nil {
			return err
		}
	}
}

// pushOne adds one wanted to a random item, or buys one of it when some
// remain (half the time), and pushes that edit as a one-item delta. It
// returns an error only when the run must stop (cancelled, or a local
// bug); a refused push is counted.
func (cl *client) pushOne(ctx context.Context, l *crdt.List, measured bool) error {
	k := cl.rng.IntN(len(cl.items.keys))
	name, key := cl.items.names[k], cl.items.keys[k]
	prev := l.MaxStamp()
	var want, buy int64
	if v, ok := l.Lookup(key); ok && v.Remaining > 0 && cl.rng.IntN(2) == 0 {
		buy = 1
		if err := l.Buy(cl.clock, name, 1); err != nil {
			return fmt.Errorf("loadgen: local buy: %w", err)
		}
	} else {
		want = 1
		if err := l.Add(cl.clock, name, 1); err != nil {
			return fmt.Errorf("loadgen: local add: %w", err)
		}
	}
	delete(cl.known, l.ID())
	body := l.Delta(prev).Encode()
	edit := ledger.Edit{List: l.ID(), Item: key, Replica: cl.clock.Replica(), Wanted: want, Bought: buy}
	cl.ledger.Attempt(edit)
	start := time.Now()
	cl.pending.add(body, start, measured)
	_, err := cl.conn.Expect(ctx, protocol.NewPush(0, l.ID(), body), protocol.TypeOK)
	elapsed := time.Since(start)
	if err != nil {
		cl.pending.drop(body)
		return cl.failed(ctx, err)
	}
	cl.pending.ack(body)
	cl.ledger.Ack(edit)
	if measured {
		cl.push.Record(elapsed)
	}
	return nil
}

// pullOne reads the list and merges the reply into the local replica. The
// Pull names the local state by its hash (unless fullPulls), so a list the
// cluster holds as this client does is answered Unchanged, with nothing to
// decode or merge. The latency is the request's round trip; decoding and
// merging come after.
func (cl *client) pullOne(ctx context.Context, l *crdt.List, measured bool) error {
	pull := protocol.NewPull(0, l.ID())
	if !cl.fullPulls {
		pull = protocol.NewPullKnown(0, l.ID(), cl.knownHash(l))
	}
	start := time.Now()
	reply, err := cl.conn.Call(ctx, pull)
	elapsed := time.Since(start)
	if err == nil && reply.Type != protocol.TypePullReply && (reply.Type != protocol.TypeUnchanged || cl.fullPulls) {
		err = fmt.Errorf("%w: %v to Pull", dealer.ErrUnexpectedReply, reply.Type)
	}
	if err != nil {
		return cl.failed(ctx, err)
	}
	if measured {
		cl.pull.Record(elapsed)
	}
	if reply.Type == protocol.TypeUnchanged {
		cl.unchanged++
		return nil
	}
	if len(reply.Body) == 0 {
		return nil
	}
	state, err := crdt.Decode(reply.Body)
	if err == nil {
		delete(cl.known, l.ID())
		err = l.Merge(state)
	}
	if err != nil {
		cl.failures["Decode"]++
	}
	return nil
}

// knownHash returns the StateHash of l's encoding, computed once per
// change of l.
func (cl *client) knownHash(l *crdt.List) uint64 {
	h, ok := cl.known[l.ID()]
	if !ok {
		h = crdt.StateHash(l.Encode())
		cl.known[l.ID()] = h
	}
	return h
}

// failed counts a failed request, or returns the context's error when the
// run was cancelled.
func (cl *client) failed(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	cl.failures[errorKey(err)]++
	return nil
}

// errorKey names an error for the per-code error counts: the protocol
// error code, "Timeout", or "Other".
func errorKey(err error) string {
	var remote protocol.ErrorBody
	switch {
	case errors.As(err, &remote):
		return remote.Code.String()
	case errors.Is(err, dealer.ErrTimeout):
		return "Timeout"
	}
	return "Other"
}
