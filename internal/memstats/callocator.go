package memstats

// #include <malloc.h>
import "C"

// CAllocator is the C allocator's memory, in bytes, from glibc's mallinfo2
// summed over its arenas.
type CAllocator struct {
	// InUse is what the process holds through malloc: chunks in the arenas
	// and blocks mapped on their own (large allocations).
	InUse int64
	// Free is memory freed into the arenas and kept by the allocator for
	// reuse: resident unless the pages were given back.
	Free int64
	// Mapped is the part of InUse mapped on its own (allocations at or
	// above the allocator's mmap threshold), returned to the OS when freed.
	Mapped int64
}

// ReadCAllocator returns the C allocator's memory now. It walks every
// arena under its lock: cheap for an occasional report, not for a hot
// path.
func ReadCAllocator() CAllocator {
	m := C.mallinfo2()
	return CAllocator{
		InUse:  int64(m.uordblks) + int64(m.hblkhd),
		Free:   int64(m.fordblks),
		Mapped: int64(m.hblkhd),
	}
}
