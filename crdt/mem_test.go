package crdt

import "runtime"

// runtimeMem measures the bytes allocated between before and after.
type runtimeMem struct{ start uint64 }

func (m *runtimeMem) before() {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	m.start = s.TotalAlloc
}

func (m *runtimeMem) after() uint64 {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	return s.TotalAlloc - m.start
}
