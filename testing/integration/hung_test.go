package integration

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"shoplist/protocol"
	"shoplist/testing/faults"
)

// Two replicas of a list hung (SIGSTOP) rather than gone:
// the proxy's Stores reach their sockets and only one replica answers, so
// the push must wait for a second acknowledgement that never comes and fail,
// rather than be acknowledged by one replica. With three servers every list
// lives on all three.
func TestPushWithTwoReplicasHungIsNeverAcknowledged(t *testing.T) {
	t.Parallel()
	c := launchReal(t, 3)
	cl := dial(t, c.ClientEndpoint())
	list := pushNew(t, cl, "frozen")

	hung := c.Servers()[1:]
	for _, s := range hung {
		must(t, syscall.Kill(s.PID, syscall.SIGSTOP))
		t.Cleanup(func() { syscall.Kill(s.PID, syscall.SIGCONT) })
		// The signal is delivered asynchronously: wait until every thread
		// has stopped, so that none can answer.
		eventually(t, fmt.Sprintf("server %s (pid %d) stopped", s.ID, s.PID), func() bool { return faults.Stopped(s.PID) })
	}
	delta, err := list.add("never acknowledged", 1)
	must(t, err)
	err = cl.push(list.id(), delta)
	var eb protocol.ErrorBody
	if !errors.As(err, &eb) || eb.Code != protocol.CodeQuorumFailed || !quorumError.MatchString(eb.Message) {
		t.Fatalf("push with 2 of 3 replicas hung: %v, want Error QuorumFailed saying 1 (or 0) of 3 replicas acknowledged", err)
	}

	// Once they run again the servers come back on their own and the same
	// push is acknowledged.
	for _, s := range hung {
		must(t, syscall.Kill(s.PID, syscall.SIGCONT))
	}
	deadline := time.Now().Add(testTimeout)
	for {
		err := cl.push(list.id(), delta)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("push after the replicas resumed: %v", err)
		}
		// Until the proxy sees them up, pushes fail at once: do not spin
		// on the cores the resumed servers need.
		time.Sleep(50 * time.Millisecond)
	}
}
