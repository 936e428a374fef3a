package runtimecfg

import (
	"context"
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Headroom is the least the Go heap may grow past what the last collection
// found live before the collector runs again.
//
// A proxy's or a storage server's live heap can be small, a megabyte or
// so (the list index of a small store, the requests in flight), while
// every request leaves garbage behind, so at the default GOGC the heap goal
// was the runtime's floor of 4 MB: under 64 clients each server collected
// 11 to 20 times a second, and the collector took a sixth of the servers'
// CPU (docs/BENCHMARKS.md, "The collector's headroom"). Headroom costs a fixed
// amount of memory per process, not per list: once the live heap is larger
// than Headroom, GOGC's growth in proportion is the larger and the percentage
// is left at GOGC's. Each role's soft memory limit (debug.SetMemoryLimit)
// still bounds the heap, headroom included.
const Headroom = 32 << 20

// headroomPeriod is how often keepHeadroom looks for a finished collection.
// The live heap changes only when a collection ends, and slowly: a goal
// computed from a reading this old is as good as a fresh one.
const headroomPeriod = 250 * time.Millisecond

// heapMinimum is the runtime's least heap goal at GOGC=100, which it scales
// with the percentage (defaultHeapMinimum, and setGCPercent's heapMinimum,
// in runtime/mgcpacer.go of Go 1.26).
const heapMinimum = 4 << 20

// defaultPercent is the percentage the runtime runs with when GOGC is unset.
const defaultPercent = 100

// gcPercent returns the collector percentage that puts the next heap goal
// headroom bytes past live, or base if base puts it further. The runtime's
// goal for percentage p is live + scan·p/100, and at least heapMinimum·p/100
// (gcControllerState.commit, runtime/mgcpacer.go), where live is the heap
// the last collection marked and scan is that plus the stacks and globals it
// scanned. The smaller of the two percentages that reach live + headroom
// reaches it through one term and stays under it in the other.
func gcPercent(live, scan, headroom uint64, base int) int {
	want := float64(headroom) / float64(max(scan, 1))
	if floor := float64(live+headroom) / heapMinimum; floor < want {
		want = floor
	}
	p := int(math.Ceil(want * 100))
	if p < base {
		return base
	}
	return p
}

// keepHeadroom sets the collector's percentage after every collection, until
// ctx is done, so that the heap may grow by Headroom past the live heap
// before the next collection (gcPercent); it then puts the default back. It
// does nothing when GOGC is set: the user's percentage stands.
func keepHeadroom(ctx context.Context) {
	if os.Getenv("GOGC") != "" {
		return
	}
	defer debug.SetGCPercent(defaultPercent)
	samples := []metrics.Sample{
		{Name: "/gc/cycles/total:gc-cycles"},
		{Name: "/gc/heap/live:bytes"},
		{Name: "/gc/scan/stack:bytes"},
		{Name: "/gc/scan/globals:bytes"},
	}
	t := time.NewTicker(headroomPeriod)
	defer t.Stop()
	seen, percent := ^uint64(0), defaultPercent
	for {
		metrics.Read(samples)
		if cycles := samples[0].Value.Uint64(); cycles != seen {
			seen = cycles
			live := samples[1].Value.Uint64()
			scan := live + samples[2].Value.Uint64() + samples[3].Value.Uint64()
			if p := gcPercent(live, scan, Headroom, defaultPercent); p != percent {
				percent = p
				debug.SetGCPercent(p)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// KeepHeadroom runs keepHeadroom for a process that does not call Prepare
// (the load generator, whose simulated clients allocate as a proxy does),
// until ctx is done or stop is called; stop returns once it has.
func KeepHeadroom(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		keepHeadroom(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}
