package proxy

import (
	"context"
	"fmt"
	"sync/atomic"

	zmq "github.com/pebbe/zmq4"
)

// doorbellSeq numbers doorbells, so each has its own inproc address.
var doorbellSeq atomic.Uint64

// doorbell wakes the socket loop from other goroutines without touching
// its sockets: they call ring, which never blocks; the doorbell's own
// goroutine (run) owns an inproc PUSH socket and sends one empty frame per
// ring; the loop polls the PULL end and drains it. Rings that arrive while
// one is pending merge into it.
type doorbell struct {
	pull  *zmq.Socket // owned by the loop once started
	push  *zmq.Socket // owned by run once started
	rings chan struct{}
}

// newDoorbell creates both ends and connects them.
func newDoorbell() (*doorbell, error) {
	addr := fmt.Sprintf("inproc://shoplist-proxy-doorbell-%d", doorbellSeq.Add(1))
	pull, err := zmq.NewSocket(zmq.PULL)
	if err != nil {
		return nil, fmt.Errorf("proxy: doorbell: %w", err)
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
		return nil, fmt.Errorf("proxy: doorbell: %w", err)
	}
	push.SetLinger(0)
	return &doorbell{pull: pull, push: push, rings: make(chan struct{}, 1)}, nil
}

// ring asks the loop to wake up.
func (d *doorbell) ring() {
	select {
	case d.rings <- struct{}{}:
	default:
	}
}

// run owns the PUSH end until ctx is done. It also rings when the
// membership changes, and once more when ctx is done, so the loop notices.
func (d *doorbell) run(ctx context.Context, changes <-chan struct{}) {
	push := d.push
	defer push.Close()
	for {
		select {
		case <-ctx.Done():
			push.Send("", zmq.DONTWAIT)
			return
		case <-d.rings:
		case <-changes:
		}
		push.Send("", zmq.DONTWAIT) // a full pipe already holds a wake-up
	}
}
