package zpoll

import (
	"fmt"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// pair returns a connected PUSH and PULL over inproc, closed with the test.
func pair(t *testing.T) (push, pull *zmq.Socket) {
	t.Helper()
	ctx, err := zmq.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctx.Term() })
	ep := fmt.Sprintf("inproc://zpoll-%s", t.Name())
	if pull, err = ctx.NewSocket(zmq.PULL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pull.Close() })
	if err := pull.Bind(ep); err != nil {
		t.Fatal(err)
	}
	if push, err = ctx.NewSocket(zmq.PUSH); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { push.Close() })
	if err := push.Connect(ep); err != nil {
		t.Fatal(err)
	}
	return push, pull
}

func newPoller(t *testing.T, socks ...*zmq.Socket) *Poller {
	t.Helper()
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	for _, s := range socks {
		if err := p.Add(s, zmq.POLLIN); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// drain receives every message waiting on s and returns how many there were.
func drain(t *testing.T, s *zmq.Socket) int {
	t.Helper()
	n := 0
	for {
		if _, err := s.RecvBytes(zmq.DONTWAIT); err != nil {
			if zmq.AsErrno(err) != zmq.Errno(11) { // EAGAIN
				t.Fatal(err)
			}
			return n
		}
		n++
	}
}

func TestPollWithNothingToReadTimesOutEmpty(t *testing.T) {
	_, pull := pair(t)
	p := newPoller(t, pull)
	if got, err := p.Poll(0); err != nil || len(got) != 0 {
		t.Fatalf("Poll(0) = %v, %v; want nothing", got, err)
	}
	start := time.Now()
	got, err := p.Poll(30 * time.Millisecond)
	if err != nil || len(got) != 0 {
		t.Fatalf("Poll(30ms) = %v, %v; want nothing", got, err)
	}
	if waited := time.Since(start); waited < 30*time.Millisecond {
		t.Fatalf("Poll(30ms) returned after %v, before its timeout", waited)
	}
}

func TestPollReportsAMessageSentWhileItWaits(t *testing.T) {
	push, pull := pair(t)
	p := newPoller(t, pull)
	done := make(chan []zmq.Polled, 1)
	go func() {
		got, err := p.Poll(-1)
		if err != nil {
			t.Error(err)
		}
		done <- got
	}()
	// Sent from this goroutine while the other polls: a PUSH socket may
	// be used by one goroutine at a time, and this one owns it.
	if _, err := push.Send("x", 0); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-done:
		if len(got) != 1 || got[0].Socket != pull || got[0].Events&zmq.POLLIN == 0 {
			t.Fatalf("Poll = %v; want the PULL socket readable", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Poll did not return within 10s of a message")
	}
}

// TestNoSignalIsLostBetweenWaits sends in rounds, each after the loop has
// read everything: a signal consumed by a receive and not looked at again
// would leave Poll waiting for ever (here, until its deadline), and the
// round would fail.
func TestNoSignalIsLostBetweenWaits(t *testing.T) {
	push, pull := pair(t)
	_, otherPull := pair(t)
	p := newPoller(t, pull, otherPull)
	for round := range 2000 {
		for range round%5 + 1 {
			if _, err := push.Send("x", zmq.DONTWAIT); err != nil {
				t.Fatal(err)
			}
		}
		got, err := p.Poll(10 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Socket != pull {
			t.Fatalf("round %d: Poll = %v; want the PULL socket that was sent to", round, got)
		}
		want := round%5 + 1
		for n := drain(t, pull); n < want; n += drain(t, pull) {
			// The rest of the round is still on its way through the
			// pipe: wait for it as the loop would.
			if _, err := p.Poll(10 * time.Second); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestPollCountsEveryMessageOfAConcurrentSender(t *testing.T) {
	push, pull := pair(t)
	p := newPoller(t, pull)
	const total = 20000
	sent := make(chan error, 1)
	go func() {
		for range total {
			if _, err := push.Send("x", 0); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	got := 0
	deadline := time.Now().Add(30 * time.Second)
	for got < total && time.Now().Before(deadline) {
		if _, err := p.Poll(time.Until(deadline)); err != nil {
			t.Fatal(err)
		}
		got += drain(t, pull)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if got != total {
		t.Fatalf("received %d of %d messages before the deadline", got, total)
	}
}

func TestPollReportsOnlyTheEventsAskedFor(t *testing.T) {
	push, pull := pair(t)
	p := newPoller(t)
	if err := p.Add(push, zmq.POLLOUT); err != nil {
		t.Fatal(err)
	}
	if err := p.Add(pull, zmq.POLLIN); err != nil {
		t.Fatal(err)
	}
	got, err := p.Poll(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Socket != push || got[0].Events != zmq.POLLOUT {
		t.Fatalf("Poll = %v; want only the PUSH socket, writable", got)
	}
	p.Reset()
	if got, err := p.Poll(0); err != nil || len(got) != 0 {
		t.Fatalf("after Reset, Poll(0) = %v, %v; want nothing", got, err)
	}
}
