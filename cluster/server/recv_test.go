package server

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// backlogThenDrop gives an IMMEDIATE DEALER (as a server's link is) a
// backlog of two-frame messages from a ROUTER, then closes the ROUTER and
// waits, on the DEALER's monitor, until libzmq has seen the connection
// drop: the pipe's termination is then pending in the DEALER's mailbox.
func backlogThenDrop(t *testing.T, messages int) *zmq.Socket {
	t.Helper()
	router, err := zmq.NewSocket(zmq.ROUTER)
	must(t, err)
	must(t, router.SetLinger(0))
	must(t, router.Bind("tcp://127.0.0.1:*"))
	ep, err := router.GetLastEndpoint()
	must(t, err)
	dealer, err := zmq.NewSocket(zmq.DEALER)
	must(t, err)
	t.Cleanup(func() { dealer.Close() })
	must(t, dealer.SetLinger(0))
	must(t, dealer.SetIdentity("s1"))
	must(t, dealer.SetImmediate(true))
	mon := fmt.Sprintf("inproc://monitor-%d", time.Now().UnixNano())
	must(t, dealer.Monitor(mon, zmq.EVENT_DISCONNECTED))
	events, err := zmq.NewSocket(zmq.PAIR)
	must(t, err)
	defer events.Close()
	must(t, events.Connect(mon))
	must(t, dealer.Connect(ep))
	// The DEALER says hello so that the ROUTER knows its identity.
	_, err = dealer.SendMessage("hello")
	must(t, err)
	_, err = router.RecvMessageBytes(0)
	must(t, err)
	for i := range messages {
		_, err := router.SendMessage("s1", fmt.Sprintf("header %d", i), strings.Repeat("b", 64))
		must(t, err)
	}
	// Every message has arrived when the DEALER polls readable and the
	// last one can be seen; wait for the whole backlog by polling its
	// events without reading (which processes commands, not messages).
	deadline := time.Now().Add(10 * time.Second)
	for {
		ev, err := dealer.GetEvents()
		must(t, err)
		if ev&zmq.POLLIN != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the backlog never arrived")
		}
		time.Sleep(time.Millisecond)
	}
	must(t, router.Close())
	must(t, events.SetRcvtimeo(10*time.Second))
	if ev, _, _, err := events.RecvEvent(0); err != nil || ev != zmq.EVENT_DISCONNECTED {
		t.Fatalf("monitor: %v, %v; want the disconnection", ev, err)
	}
	return dealer
}

// TestAConnectionDropInABacklogDoesNotAbort reads a backlog of 60
// two-frame messages whose connection dropped, message by message, as a
// server's loop does. The reads run in a child process, because the
// failure this guards against is an abort inside libzmq; the child must
// exit cleanly.
func TestAConnectionDropInABacklogDoesNotAbort(t *testing.T) {
	if os.Getenv("SHOPLIST_RECV_CHILD") == "1" {
		dealer := backlogThenDrop(t, 60)
		got := 0
		for range 60 {
			if _, ok := recvMessage(dealer); ok {
				got++
			}
		}
		t.Logf("read %d of 60 messages after the drop", got)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestAConnectionDropInABacklogDoesNotAbort$", "-test.v")
	cmd.Env = append(os.Environ(), "SHOPLIST_RECV_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PASS") {
		t.Fatalf("reading a backlog whose connection dropped: %v\n%s", err, out)
	}
}
