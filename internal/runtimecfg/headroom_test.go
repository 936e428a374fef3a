package runtimecfg

import (
	"context"
	"os"
	"runtime"
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
		// 64 MiB live: GOGC's own 100 % already grows it by 64 MiB.
		{"large heap", 64 * mib, 64 * mib, 32 * mib, 100},
	} {
		if got := gcPercent(c.live, c.scan, c.room, 100); got != c.want {
			t.Errorf("%s: gcPercent(%d, %d, %d, 100) = %d, want %d", c.name, c.live, c.scan, c.room, got, c.want)
		}
	}
}

// TestKeepHeadroomRaisesTheHeapGoal checks the effect, not the percentage:
// once a collection has run, the runtime's own heap goal is at least
// Headroom past the live heap, and the default comes back at the end.
func TestKeepHeadroomRaisesTheHeapGoal(t *testing.T) {
	if os.Getenv("GOGC") != "" {
		t.Skip("GOGC is set: keepHeadroom leaves the user's percentage alone")
	}
	samples := []metrics.Sample{
		{Name: "/gc/heap/goal:bytes"},
		{Name: "/gc/heap/live:bytes"},
		{Name: "/gc/gogc:percent"},
	}
	read := func() (goal, live, percent uint64) {
		metrics.Read(samples)
		return samples[0].Value.Uint64(), samples[1].Value.Uint64(), samples[2].Value.Uint64()
	}
	stop := KeepHeadroom(context.Background())
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		goal, live, _ := read()
		// A goal rounds to whole pages and the live heap moves between
		// the two readings: a MiB of slack.
		if goal+(1<<20) >= live+Headroom {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("heap goal %d bytes with %d live, want at least %d past it within 10s", goal, live, Headroom)
		}
		time.Sleep(headroomPeriod / 5) // polling for the goroutine's next look
	}
	stop()
	if _, _, percent := read(); percent != defaultPercent {
		t.Errorf("after stop the collector's percentage is %d, want %d back", percent, defaultPercent)
	}
}
