package zmonitor

import (
	"math/rand/v2"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// exchange checks that a fresh DEALER and ROUTER of the default context
// can trade a message: false if ZeroMQ's I/O thread does not move it
// within d.
func exchange(t *testing.T, d time.Duration) bool {
	t.Helper()
	router, err := zmq.NewSocket(zmq.ROUTER)
	if err != nil {
		t.Fatal(err)
	}
	defer router.Close()
	router.SetLinger(0)
	if err := router.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	ep, _ := router.GetLastEndpoint()
	dealer, err := zmq.NewSocket(zmq.DEALER)
	if err != nil {
		t.Fatal(err)
	}
	defer dealer.Close()
	dealer.SetLinger(0)
	if err := dealer.Connect(ep); err != nil {
		t.Fatal(err)
	}
	if _, err := dealer.Send("ping", zmq.DONTWAIT); err != nil {
		t.Fatal(err)
	}
	poller := zmq.NewPoller()
	poller.Add(router, zmq.POLLIN)
	polled, err := poller.Poll(d)
	return err == nil && len(polled) == 1
}

// refusingProxy binds a CURVE ROUTER, in a context of its own, whose ZAP
// handler refuses every client key, and returns its endpoint and key.
func refusingProxy(t *testing.T) (endpoint, key string) {
	t.Helper()
	zctx, err := zmq.NewContext()
	must(t, err)
	zap, err := zctx.NewSocket(zmq.REP)
	must(t, err)
	must(t, zap.SetLinger(0))
	must(t, zap.Bind("inproc://zeromq.zap.01"))
	done := make(chan struct{})
	go func() { // every key is refused
		defer close(done)
		defer zap.Close()
		for {
			req, err := zap.RecvMessageBytes(0)
			if err != nil {
				return // the context is terminated
			}
			zap.SendMessage("1.0", req[1], "400", "key not admitted", "", "")
		}
	}()
	public, secret, err := zmq.NewCurveKeypair()
	must(t, err)
	router, err := zctx.NewSocket(zmq.ROUTER)
	must(t, err)
	must(t, router.SetLinger(0))
	must(t, router.SetCurveServer(1))
	must(t, router.SetCurveSecretkey(secret))
	must(t, router.Bind("tcp://127.0.0.1:*"))
	endpoint, err = router.GetLastEndpoint()
	must(t, err)
	t.Cleanup(func() {
		router.Close()
		zctx.Term()
		<-done
	})
	return endpoint, public
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestClosingWhileHandshakesFailLeavesTheContextWorking plays a server
// whose proxy refuses its key: a monitored DEALER whose handshakes fail
// every millisecond, closed and opened again, as a link that reconnects
// is, at moments spread over a handshake's course. Each failure is sent to
// the monitor from ZeroMQ's I/O thread with a blocking send; had the
// monitor's reader gone before the monitor stopped, that send would block
// the I/O thread for good, and no socket of the context would move a
// message again (a mutation closing the reader first fails this test).
func TestClosingWhileHandshakesFailLeavesTheContextWorking(t *testing.T) {
	endpoint, key := refusingProxy(t)
	public, secret, err := zmq.NewCurveKeypair()
	must(t, err)
	events := zmq.EVENT_HANDSHAKE_FAILED_AUTH | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL |
		zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL | zmq.EVENT_DISCONNECTED | zmq.EVENT_CLOSED
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100 {
		dealer, err := zmq.NewSocket(zmq.DEALER)
		must(t, err)
		must(t, dealer.SetLinger(0))
		must(t, dealer.ClientAuthCurve(key, public, secret))
		must(t, dealer.SetReconnectIvl(time.Millisecond))
		mon, err := Open(dealer, "test", events)
		must(t, err)
		must(t, dealer.Connect(endpoint))
		// Not a wait for anything: the close lands at a different point
		// of the failing handshakes each round.
		time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond)
		must(t, Close(dealer, mon))
	}
	if !exchange(t, 10*time.Second) {
		t.Fatal("after closing monitored sockets, ZeroMQ moves no message: its I/O thread is blocked")
	}
}
