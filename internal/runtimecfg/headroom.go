package runtimecfg

import (
	"context"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// Headroom is how far past the live heap the collector's heap goal is set,
// at the least: the collector starts its next cycle on the way to that
// goal, so the heap grows most of Headroom between collections.
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

// heapMinimum is the runtime's least heap goal at GOGC=100, which it scales
// with the percentage (defaultHeapMinimum, and setGCPercent's heapMinimum,
// in runtime/mgcpacer.go of Go 1.26; 512 KiB under the heapminimum512kib
// experiment, which is off by default).
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

// keepHeadroom sets the collector's percentage at the end of every
// collection, until ctx is done, so that the next heap goal is Headroom
// past the heap the collection found live (gcPercent); it then puts the
// default back. A percentage left from a smaller live heap would let a heap
// that grew fast (a server building its list index) run to many times its
// live size before the next collection, so it is set anew from every
// collection's reading rather than from a periodic one. It does nothing
// when GOGC is set: the user's percentage stands. Several in one process
// (tests that run roles in-process) set the same percentage, from the same
// readings; one that stops puts the default back until the others' next
// collection.
func keepHeadroom(ctx context.Context) {
	if os.Getenv("GOGC") != "" {
		return
	}
	defer debug.SetGCPercent(defaultPercent)
	collected := make(chan struct{}, 1)
	watchCollections(ctx, collected)
	samples := []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/gc/scan/stack:bytes"},
		{Name: "/gc/scan/globals:bytes"},
	}
	for {
		metrics.Read(samples)
		live := samples[0].Value.Uint64()
		scan := live + samples[1].Value.Uint64() + samples[2].Value.Uint64()
		debug.SetGCPercent(gcPercent(live, scan, Headroom, defaultPercent))
		select {
		case <-ctx.Done():
			return
		case <-collected:
		}
	}
}

// sentinel is an object made only to be collected. It holds a pointer so
// that the allocator never batches it with other tiny objects, whose
// cleanups may then never run (runtime.AddCleanup).
type sentinel struct{ _ *byte }

// watchCollections signals collected (without blocking) at the end of each
// collection until ctx is done: each sentinel's cleanup runs once the
// collection that found it unreachable is over, and arms the next one.
func watchCollections(ctx context.Context, collected chan<- struct{}) {
	if ctx.Err() != nil {
		return
	}
	runtime.AddCleanup(new(sentinel), func(struct{}) {
		select {
		case collected <- struct{}{}:
		default: // one pending signal is enough
		}
		watchCollections(ctx, collected)
	}, struct{}{})
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
