// Package doorbell wakes a ZeroMQ socket loop from other goroutines.
package doorbell

import (
	"context"
	"fmt"
	"sync/atomic"

	zmq "github.com/pebbe/zmq4"
)

// seq numbers doorbells, so each has its own inproc address.
var seq atomic.Uint64

// Doorbell wakes a socket loop from other goroutines without touching its
// sockets: they call Ring, which never blocks; the doorbell's own goroutine
// (Run or RunUntil) owns an inproc PUSH socket and sends one empty frame per
// ring; the loop polls the PULL end (Socket) and drains it (Drain). Rings
// that arrive while one is pending merge into it.
type Doorbell struct {
	pull  *zmq.Socket // owned by the loop once started
	push  *zmq.Socket // owned by Run or RunUntil once started
	rings chan struct{}
}

// New creates both ends and connects them. name goes into the inproc
// address, for debugging.
func New(name string) (*Doorbell, error) {
	addr := fmt.Sprintf("inproc://shoplist-doorbell-%s-%d", name, seq.Add(1))
	pull, err := zmq.NewSocket(zmq.PULL)
	if err != nil {
		return nil, fmt.Errorf("doorbell: %w", err)
	}
	push, err := zmq.NewSocket(zmq.PUSH)
	if err == nil {
		err = pull.Bind(addr)
	}
	if err == nil {
		err = push.Connect(addr)
	}
	if err != nil {
		pull.SetLinger(0)
		pull.Close()
		if push != nil {
			push.Close()
		}
		return nil, fmt.Errorf("doorbell: %w", err)
	}
	pull.SetLinger(0)
	push.SetLinger(0)
	return &Doorbell{pull: pull, push: push, rings: make(chan struct{}, 1)}, nil
}

// Socket returns the PULL end, for the loop to poll for POLLIN. It belongs
// to the loop, which closes it when it stops.
func (d *Doorbell) Socket() *zmq.Socket { return d.pull }

// Drain receives every pending wake-up from the PULL end without blocking.
// Only the loop that owns Socket may call it.
func (d *Doorbell) Drain() {
	for {
		if _, err := d.pull.RecvBytes(zmq.DONTWAIT); err != nil {
			return
		}
	}
}

// Ring asks the loop to wake up. It never blocks and is safe from any
// goroutine.
func (d *Doorbell) Ring() {
	select {
	case d.rings <- struct{}{}:
	default:
	}
}

// Run owns the PUSH end until ctx is done, then closes it. It sends a
// wake-up for every ring and every value received on changes (nil: none),
// and once more when ctx is done, so the loop notices.
func (d *Doorbell) Run(ctx context.Context, changes <-chan struct{}) {
	d.run(ctx, changes, nil)
}

// RunUntil is Run for a loop that still needs waking after ctx is done,
// because it goes on forwarding other goroutines' last work while it
// stops: it sends a wake-up for every ring, and once when ctx is done, as
// Run does, and goes on until loopDone is closed (the loop has returned),
// then closes the PUSH end.
func (d *Doorbell) RunUntil(ctx context.Context, loopDone <-chan struct{}) {
	d.run(ctx, nil, loopDone)
}

// run is Run and RunUntil: until nil returns right after the wake-up for
// the end of ctx; otherwise the rings go on until it is closed.
func (d *Doorbell) run(ctx context.Context, changes, until <-chan struct{}) {
	push := d.push
	defer push.Close()
	stop := ctx.Done()
	for {
		select {
		case <-stop:
			if until == nil {
				push.Send("", zmq.DONTWAIT)
				return
			}
			stop = nil // one wake-up for the end is enough
		case <-until:
			return
		case <-d.rings:
		case <-changes:
		}
		push.Send("", zmq.DONTWAIT) // a full pipe already holds a wake-up
	}
}
