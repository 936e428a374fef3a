package memstats

import "runtime/metrics"

// GoRuntime is the Go runtime's memory, in bytes, from runtime/metrics.
type GoRuntime struct {
	// HeapLive is the heap the last collection found reachable.
	HeapLive int64
	// HeapObjects is the heap occupied by objects, reachable or garbage
	// not yet swept.
	HeapObjects int64
	// HeapHeld is heap memory the runtime keeps mapped beyond its objects:
	// free spans not yet returned to the OS and unused parts of spans.
	HeapHeld int64
	// Stacks is goroutine stacks and the OS threads' stacks the runtime
	// allocated.
	Stacks int64
	// Other is the runtime's own metadata, profiling buckets and the rest.
	Other int64
	// Released is heap returned to the OS and still mapped: not resident.
	Released int64
	// Limit is the soft memory limit (math.MaxInt64 when none is set).
	Limit int64
}

// Mapped is what the runtime holds and has not returned to the OS: the
// upper bound of its resident share.
func (g GoRuntime) Mapped() int64 { return g.HeapObjects + g.HeapHeld + g.Stacks + g.Other }

// goSamples are the runtime/metrics read by ReadGoRuntime, in this order.
var goSamples = []string{
	"/gc/heap/live:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/stacks:bytes",
	"/memory/classes/os-stacks:bytes",
	"/memory/classes/total:bytes",
	"/memory/classes/heap/released:bytes",
	"/gc/gomemlimit:bytes",
}

// ReadGoRuntime returns the Go runtime's memory now. It does not stop the
// world.
func ReadGoRuntime() GoRuntime {
	s := make([]metrics.Sample, len(goSamples))
	for i, name := range goSamples {
		s[i].Name = name
	}
	metrics.Read(s)
	v := func(i int) int64 {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return int64(s[i].Value.Uint64())
	}
	g := GoRuntime{
		HeapLive:    v(0),
		HeapObjects: v(1),
		HeapHeld:    v(2) + v(3),
		Stacks:      v(4) + v(5),
		Released:    v(7),
		Limit:       v(8),
	}
	g.Other = v(6) - g.Released - g.HeapObjects - g.HeapHeld - g.Stacks
	return g
}
