package runtimecfg

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestGCPercentPutsTheGoalHeadroomPastTheLiveHeap(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		name             string
		live, scan, room uint64
		want             int
	}{
		// Under the runtime's 4 MiB floor the floor term decides:
		// (1+32)/4 = 8.25, so 825 %, whose floor is 33 MiB = live + room;
		// the other term gives 1 + 1·8.25 = 9.25 MiB, less.
		{"tiny heap", 1 * mib, 1 * mib, 32 * mib, 825},
		// Nothing live yet: (0+32)/4 = 8.
		{"empty heap", 0, 0, 32 * mib, 800},
		// 8 MiB live and scanned: 32/8 = 4, so 400 %, and the goal is
		// 8 + 8·4 = 40 MiB; the floor term, 4·4 = 16 MiB, is less.
		{"small heap", 8 * mib, 8 * mib, 32 * mib, 400},
		// Stacks and globals count in the proportional term: 32/10 = 3.2.
		{"stacks scanned", 8 * mib, 10 * mib, 32 * mib, 320},
		// 32/9 = 3.555…: rounded up to 356 %, so that the goal is at
		// least live + room (355 % would stop 0.05 MiB short).
		{"rounded up", 8 * mib, 9 * mib, 32 * mib, 356},
		// 64 MiB live: GOGC's own 100 % already grows it by 64 MiB.
		{"large heap", 64 * mib, 64 * mib, 32 * mib, 100},
	} {
		if got := gcPercent(c.live, c.scan, c.room, 100); got != c.want {
			t.Errorf("%s: gcPercent(%d, %d, %d, 100) = %d, want %d", c.name, c.live, c.scan, c.room, got, c.want)
		}
	}
}

// heapGoal reads the runtime's own heap goal, the heap the last collection
// marked live, and the collector's percentage, in one reading.
func heapGoal() (goal, live, percent uint64) {
	s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}, {Name: "/gc/heap/live:bytes"}, {Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64(), s[2].Value.Uint64()
}

// collectUntil runs collections until cond holds of the runtime's reading,
// failing the test after 10 s. The percentage is set once a collection has
// ended, from its reading, so the goal it yields shows after the next.
func collectUntil(t *testing.T, what string, cond func(goal, live, percent uint64) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		goal, live, percent := heapGoal()
		if cond(goal, live, percent) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within 10s: %s (heap goal %d bytes, %d live, GOGC %d %%)", what, goal, live, percent)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition, not synchronising on time
	}
}

// TestKeepHeadroomSetsTheHeapGoalHeadroomPastTheLiveHeap checks the effect
// on the runtime's own heap goal, not the percentage: Headroom past a
// small live heap, and no more; a live heap grown past Headroom gets
// GOGC's 100 % back at its next collection, and the headroom again once it
// shrinks; the default comes back at the end.
func TestKeepHeadroomSetsTheHeapGoalHeadroomPastTheLiveHeap(t *testing.T) {
	if os.Getenv("GOGC") != "" {
		t.Skip("GOGC is set: keepHeadroom leaves the user's percentage alone")
	}
	const slack = 1 << 20 // the stacks and globals scanned, and the live heap moving between collections
	stop := KeepHeadroom(context.Background())
	defer stop()
	collectUntil(t, "the goal Headroom past a small live heap", func(goal, live, _ uint64) bool {
		return goal+slack >= live+Headroom && goal <= live+Headroom+slack
	})

	big := make([]byte, 2*Headroom) // live, and pointer-free: cheap to mark
	collectUntil(t, "GOGC's 100 % for a live heap over Headroom", func(goal, live, percent uint64) bool {
		return percent == defaultPercent && live >= uint64(len(big)) && goal <= 2*live+slack
	})
	runtime.KeepAlive(big)
	big = nil
	collectUntil(t, "the headroom back once the live heap shrank", func(_, _, percent uint64) bool {
		return percent > defaultPercent
	})

	stop()
	if _, _, percent := heapGoal(); percent != defaultPercent {
		t.Errorf("after stop the collector's percentage is %d, want %d back", percent, defaultPercent)
	}
}

func TestKeepHeadroomLeavesAPercentageTheUserSet(t *testing.T) {
	t.Setenv("GOGC", "150")
	was := debug.SetGCPercent(150) // what the runtime does at start under GOGC=150
	defer debug.SetGCPercent(was)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// It returns at once either way; had it run, it would have set its own
	// percentage and then the default on its way out.
	keepHeadroom(ctx)
	if _, _, percent := heapGoal(); percent != 150 {
		t.Errorf("GOGC=150 is set and the collector's percentage is %d after keepHeadroom", percent)
	}
}
