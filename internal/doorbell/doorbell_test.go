package doorbell

import (
	"context"
	"sync"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// waitRing polls the doorbell's PULL end until it is readable, or fails the
// test after a generous deadline.
func waitRing(t *testing.T, d *Doorbell, p *zmq.Poller) {
	t.Helper()
	polled, err := p.Poll(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(polled) == 0 {
		t.Fatal("no wake-up within 10s")
	}
	d.Drain()
}

func TestRingWakesThePoller(t *testing.T) {
	d, err := New("test")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Socket().Close()
	ctx, cancel := context.WithCancel(context.Background())
	changes := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		d.Run(ctx, changes)
	}()
	p := zmq.NewPoller()
	p.Add(d.Socket(), zmq.POLLIN)

	// Rings from many goroutines at once never block and wake the loop.
	var ringers sync.WaitGroup
	for range 8 {
		ringers.Add(1)
		go func() {
			defer ringers.Done()
			for range 100 {
				d.Ring()
			}
		}()
	}
	ringers.Wait()
	waitRing(t, d, p)

	// After a drain, the next ring wakes it again.
	d.Ring()
	waitRing(t, d, p)

	// So does a change notification.
	changes <- struct{}{}
	waitRing(t, d, p)

	// And the end of the context, after which Run returns.
	cancel()
	waitRing(t, d, p)
	wg.Wait()
}

// TestRunUntilRingsUntilTheLoopIsDone: after the end of the context, which
// it signals once, RunUntil still wakes the loop for every ring, and
// returns only when the loop says it is done.
func TestRunUntilRingsUntilTheLoopIsDone(t *testing.T) {
	d, err := New("test")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Socket().Close()
	ctx, cancel := context.WithCancel(context.Background())
	loopDone := make(chan struct{})
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		d.RunUntil(ctx, loopDone)
	}()
	p := zmq.NewPoller()
	p.Add(d.Socket(), zmq.POLLIN)

	d.Ring()
	waitRing(t, d, p)

	// The end of the context wakes the loop, and RunUntil keeps going.
	cancel()
	waitRing(t, d, p)
	for range 3 {
		d.Ring()
		waitRing(t, d, p)
	}
	select {
	case <-returned:
		t.Fatal("RunUntil returned before the loop was done")
	default:
	}

	close(loopDone)
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("RunUntil still running 10s after the loop was done")
	}
}
