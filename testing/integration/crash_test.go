package integration

import (
	"context"
	"fmt"
	"shoplist/testing/faults"
	"testing"
	"time"

	"github.com/google/uuid"
)

// Crash and restart, with the servers as separate processes: a server
// SIGKILLed in the middle of a stream of pushes loses no acknowledged push,
// pulls keep working while it is down, and once restarted it is the same
// ring member with the same data. Read repair of its stale replica is
// checked in process, where its store can be watched while it runs
// (readrepair_test.go).

// pushStream pushes one new item at a time to a list, from its own
// goroutine, until stopped; acked receives each acknowledged item. Failed
// pushes (while the proxy notices the crash) are allowed: they were not
// acknowledged.
type pushStream struct {
	acked  chan string
	stop   chan struct{}
	done   chan struct{}
	failed int   // pushes not acknowledged; read after done
	err    error // why the stream stopped by itself; read after done
}

func startPushStream(c *client, r *replica) *pushStream {
	s := &pushStream{acked: make(chan string, 100_000), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for i := 0; ; i++ {
			select {
			case <-s.stop:
				return
			default:
			}
			item := fmt.Sprintf("item %04d", i)
			delta, err := r.add(item, 1)
			if err != nil {
				s.err = err
				return
			}
			if err := c.push(r.id(), delta); err != nil {
				s.failed++
				continue
			}
			s.acked <- item
		}
	}()
	return s
}

// await returns the next n acknowledged items.
func (s *pushStream) await(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.NewTimer(testTimeout)
	defer deadline.Stop()
	var items []string
	for len(items) < n {
		select {
		case item := <-s.acked:
			items = append(items, item)
		case <-s.done:
			t.Fatalf("push stream stopped: %v", s.err)
		case <-deadline.C:
			t.Fatalf("only %d of %d pushes acknowledged within %v", len(items), n, testTimeout)
		}
	}
	return items
}

// end stops the stream and returns the items acknowledged since the last
// await.
func (s *pushStream) end() []string {
	close(s.stop)
	<-s.done
	close(s.acked)
	var items []string
	for item := range s.acked {
		items = append(items, item)
	}
	return items
}

func TestKilledServerLosesNoAcknowledgedPushAndComesBackWithItsData(t *testing.T) {
	t.Parallel()
	c := launchReal(t, 5)
	ids := serverIDs(c)
	victim := ids[0]
	list := findList(t, "stream", func(id uuid.UUID) []string { return ownersOf(ids, id) },
		func(owners []string) bool { return owners[0] == victim })
	writer, reader := dial(t, c.ClientEndpoint()), dial(t, c.ClientEndpoint())
	must(t, writer.push(list.id(), list.state()))

	stream := startPushStream(writer, list) // list is the stream's from now on
	t.Cleanup(func() {
		select {
		case <-stream.stop:
		default:
			stream.end()
		}
	})
	acked := stream.await(t, 20)
	beforeCrash := len(acked)
	must(t, faults.KillServer(c, victim))

	// While it is down, pushes keep being acknowledged and every pull
	// succeeds with everything acknowledged so far.
	for range 10 {
		got, err := reader.pull(list.id())
		if err != nil {
			t.Fatalf("pull with server %s down: %v", victim, err)
		}
		if missing := missingItems(got, acked); len(missing) > 0 {
			t.Fatalf("pull with server %s down lacks acknowledged %v", victim, missing)
		}
		acked = append(acked, stream.await(t, 3)...)
	}
	acked = append(acked, stream.end()...)
	t.Logf("%d pushes acknowledged (%d before the crash), %d failed", len(acked), beforeCrash, stream.failed)
	got, err := reader.pull(list.id())
	must(t, err)
	if missing := missingItems(got, acked); len(missing) > 0 {
		t.Fatalf("quorum read after the crash lacks acknowledged %v", missing)
	}

	// The restarted server is the same member (the launcher
	// waits for the proxy to welcome it into the ring) with the same data.
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	old := serverInfo(t, c, victim)
	must(t, faults.StartServer(ctx, c, victim))
	if now := serverInfo(t, c, victim); now.Dir != old.Dir || !now.Running || now.PID == old.PID {
		t.Fatalf("restarted server %+v, want a new process of %s in %s", now, victim, old.Dir)
	}
	must(t, faults.StopServer(c, victim))
	stale, storedID := storedList(t, old.Dir, list.id())
	if storedID != victim {
		t.Fatalf("server %s's directory holds server ID %q", victim, storedID)
	}
	if stale == nil || stale.Name() != "stream" {
		t.Fatalf("server %s lost its replica of the list across the crash: %v", victim, stale)
	}
	if missing := missingItems(stale, acked[:beforeCrash]); len(missing) == len(acked[:beforeCrash]) {
		t.Errorf("server %s kept none of the %d items acknowledged before it crashed", victim, beforeCrash)
	}

	// Back in the ring, it serves quorum reads again.
	must(t, faults.StartServer(ctx, c, victim))
	got, err = reader.pull(list.id())
	must(t, err)
	if missing := missingItems(got, acked); len(missing) > 0 {
		t.Fatalf("pull after the restart lacks acknowledged %v", missing)
	}
}
