package storage

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// Crash safety: a child process save-merges a stream of edits to several
// lists from several goroutines and prints "ack <hex of the delta>" after
// each SaveMerge returns (half the writers commit a few with
// SaveMergeIfUnsynced and acknowledge them after one Sync); the parent SIGKILLs it after a random number of
// acknowledgements, reopens the store, and checks that every acknowledged
// delta is contained in the stored state and that every list loads cleanly.

const (
	crashLists   = 6    // lists the child keeps, creating any missing
	crashWriters = 4    // writer goroutines in the child
	crashMaxAcks = 5000 // the child stops writing (and waits) after this many
)

// helperCrashWriter is the child's body.
func helperCrashWriter(dir string) {
	s, err := Open(dir, Options{Owner: "crash-helper"})
	if err != nil {
		helperDie("helper: open", err)
	}
	ids, err := s.IDs()
	if err != nil {
		helperDie("helper: IDs", err)
	}
	c := crdt.NewClock(uuid.New()) // a fresh replica for each run
	type list struct {
		mu sync.Mutex // guards l, the child's replica of the list
		l  *crdt.List
	}
	var lists []*list
	for _, id := range ids {
		l, err := s.Load(id)
		if err != nil {
			helperDie("helper: load", err)
		}
		lists = append(lists, &list{l: l})
	}
	for len(lists) < crashLists {
		l, err := crdt.New(c, fmt.Sprintf("list %d", len(lists)))
		if err != nil {
			helperDie("helper: new list", err)
		}
		lists = append(lists, &list{l: l})
	}

	var outMu sync.Mutex  // serialises ack lines on stdout
	var lastMu sync.Mutex // guards last
	var last *crdt.List   // the push most recently started, by any writer
	var wg sync.WaitGroup
	for w := range crashWriters {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(w)))
			ack := func(push *crdt.List) {
				line := "ack " + hex.EncodeToString(push.Encode()) + "\n"
				outMu.Lock()
				os.Stdout.WriteString(line)
				outMu.Unlock()
			}
			var batch []*crdt.List // committed by the batching writers, not yet acknowledged
			for range crashMaxAcks / crashWriters {
				ls := lists[rng.IntN(len(lists))]
				ls.mu.Lock()
				before := ls.l.MaxStamp()
				randomEdit(rng, c, ls.l)
				push := ls.l.Delta(before)
				if rng.IntN(20) == 0 {
					push = ls.l.Clone() // now and then a full state
				}
				ls.mu.Unlock()
				lastMu.Lock()
				if last != nil && rng.IntN(4) == 0 {
					// Re-push what another writer may still be syncing:
					// likely a no-op, whose ack must be durable all the same.
					push = last
				}
				last = push
				lastMu.Unlock()
				if w%2 == 0 {
					if _, err := s.SaveMerge(push); err != nil {
						helperDie("helper: SaveMerge", err)
					}
					ack(push)
					continue
				}
				// The other writers commit a batch and sync it once, as a
				// server's worker does, and acknowledge it only then.
				batch = append(batch, push)
				if len(batch) < 1+rng.IntN(4) {
					continue
				}
				var last Syncpoint
				for _, b := range batch {
					_, sp, err := s.SaveMergeIfUnsynced(b, func() error { return nil })
					if err != nil {
						helperDie("helper: SaveMergeIfUnsynced", err)
					}
					last = max(last, sp)
				}
				if err := s.Sync(last); err != nil {
					helperDie("helper: Sync", err)
				}
				for _, b := range batch {
					ack(b)
				}
				batch = batch[:0]
			}
		})
	}
	wg.Wait()
	// Not killed yet (the parent is failing): wait for the parent to go.
	_, _ = os.Stdin.Read(make([]byte, 1))
	s.Close()
}

// TestCrashSafety runs the child a few times, killing it at a random point
// each time, and checks the store after every crash.
func TestCrashSafety(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 5))
	acked := map[uuid.UUID]*crdt.List{} // join of acknowledged deltas, per list
	total := 0
	for round := range 5 {
		killAfter := 1 + rng.IntN(400)
		n := crashRound(t, dir, killAfter, func(delta *crdt.List) {
			if cur := acked[delta.ID()]; cur != nil {
				if err := cur.Merge(delta); err != nil {
					t.Fatal(err)
				}
			} else {
				acked[delta.ID()] = delta
			}
		})
		total += n

		s, err := Open(dir, testOptions(t))
		if err != nil {
			t.Fatalf("round %d: reopening after the crash: %v", round, err)
		}
		ids, err := s.IDs()
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if _, err := s.Load(id); err != nil {
				t.Fatalf("round %d: list %s does not load cleanly: %v", round, id, err)
			}
		}
		for id, want := range acked {
			got, err := s.Load(id)
			if err != nil {
				t.Fatalf("round %d: acknowledged list %s: %v", round, id, err)
			}
			if ok, err := contains(got, want); err != nil || !ok {
				t.Fatalf("round %d: list %s lost acknowledged writes (%v)", round, id, err)
			}
		}
		if q, err := s.Quarantined(); err != nil || len(q) != 0 {
			t.Fatalf("round %d: quarantine = %v, %v", round, q, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: killed after %d acks (asked %d); %d lists verified", round, n, killAfter, len(acked))
	}
	if total == 0 {
		t.Fatal("no acknowledged writes at all")
	}
}

// crashRound runs the child on dir, kills it after killAfter acks, and calls
// onAck with each acknowledged delta, including acks printed between the
// kill decision and the child's death. It returns the number of acks.
func crashRound(t *testing.T, dir string, killAfter int, onAck func(*crdt.List)) int {
	t.Helper()
	cmd, stdout, stderr := startHelper(t, "crash", dir)
	n := 0
	killed := false
	for line := range readLines(stdout) {
		hexDelta, ok := strings.CutPrefix(line, "ack ")
		if !ok {
			continue // the test framework's own output
		}
		b, err := hex.DecodeString(hexDelta)
		if err != nil {
			t.Fatalf("bad ack line %q: %v", line, err)
		}
		delta, err := crdt.Decode(b)
		if err != nil {
			t.Fatalf("ack of an undecodable delta: %v", err)
		}
		onAck(delta)
		if n++; n == killAfter {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	err := cmd.Wait()
	if !killed || !exitedByKill(err) {
		t.Fatalf("child ended with %v after %d acks (kill after %d); stderr:\n%s", err, n, killAfter, stderr.String())
	}
	return n
}
