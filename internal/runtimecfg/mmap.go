package runtimecfg

// #include <malloc.h>
import "C"

import "os"

// mmapThreshold is the size from which the C allocator maps an allocation
// on its own, and unmaps it when it is freed: glibc's initial threshold.
const mmapThreshold = 128 << 10

// fixMmapThreshold keeps the C allocator's mmap threshold at mmapThreshold,
// unless MALLOC_MMAP_THRESHOLD_ sets one.
//
// glibc raises the threshold each time a mapped block is freed, to that
// block's size (up to 32 MiB), so after the first free of a storage
// engine's memtable (16 MiB) or of a large filter or index block, blocks
// that size are carved from the arenas instead, and memory freed there
// stays with the process: a storage server holding a million lists kept
// 100 to 240 MB freed in its arenas beside 280 MB in use
// (docs/BENCHMARKS.md, "Memory per stored list"). Setting the threshold
// turns the adjustment off, so large blocks are always mapped alone and go
// back to the OS when freed; the arenas keep only small blocks.
func fixMmapThreshold() {
	if os.Getenv("MALLOC_MMAP_THRESHOLD_") == "" {
		C.mallopt(C.M_MMAP_THRESHOLD, mmapThreshold)
	}
}
