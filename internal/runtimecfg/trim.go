package runtimecfg

// #include <malloc.h>
import "C"

import (
	"context"
	"time"
)

// trimPeriod is how often trimFreed gives the C allocator's free pages
// back to the OS.
const trimPeriod = 10 * time.Second

// trimFreed asks the C allocator, every trimPeriod until ctx is done, to
// give back the whole pages of the memory freed in its arenas.
//
// glibc returns freed memory only from the top of an arena; what is freed
// between blocks still in use stays resident. The storage engine reads
// each block into a buffer, decompresses it into another that goes into
// its block cache, and frees the first: the freed buffers are holes
// between cached blocks, and a storage server holding a million lists had
// as much memory freed in its arenas as in use, 60 to 110 MB
// (docs/BENCHMARKS.md, "Memory per stored list"). malloc_trim releases the
// whole pages of those holes (madvise) and keeps them mapped, so a later
// allocation there costs a page fault, not a system call. It walks every
// arena under its lock, a millisecond or so for a hundred megabytes, so
// it runs seldom.
func trimFreed(ctx context.Context) {
	t := time.NewTicker(trimPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			C.malloc_trim(0)
		}
	}
}
