package runtimecfg

// #include <malloc.h>
import "C"

import "os"

// arenas is how many arenas the C allocator may use.
const arenas = 2

// limitArenas caps the C allocator's arenas, unless MALLOC_ARENA_MAX sets
// a cap.
//
// ZeroMQ copies every message sent into memory it allocates with malloc on
// the sending thread and frees on its I/O thread. A socket loop's goroutine
// runs on whichever thread the scheduler gives it, and glibc gives each
// thread that allocates under contention an arena of its own, up to eight
// per core: memory freed in one arena is not reused by the others, so a
// loop hopping between threads made the process's resident size grow with
// the number of threads it had run on rather than with what it holds. Two
// arenas keep the loop's and the I/O thread's allocations apart while
// bounding that growth.
func limitArenas() {
	if os.Getenv("MALLOC_ARENA_MAX") == "" {
		C.mallopt(C.M_ARENA_MAX, arenas)
	}
}
