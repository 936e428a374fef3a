// Package runtimecfg sets up the Go runtime and the C allocator for a
// process whose socket loops make many short cgo calls and wake in bursts
// (proxies and storage servers).
package runtimecfg

import (
	"context"
	"os"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// MinProcs is the fewest Ps (GOMAXPROCS) a role runs with. A goroutine in
// a cgo call or a system call keeps its P until the monitor takes it back,
// which can take up to 10 ms; on a 2-core machine that left one P for
// everything else and cost half the throughput (docs/BENCHMARKS.md). Spare
// Ps keep the other goroutines running.
const MinProcs = 8

// period is how long each of the anchor's sleeps lasts: under the 10 ms
// after which the monitor takes a P from a thread in a system call when no
// other P is free (retake, runtime/proc.go of Go 1.26).
const period = 5 * time.Millisecond

// Prepare raises GOMAXPROCS to MinProcs unless the user set it, bounds the
// C allocator's arenas (limitArenas), fixes its mmap threshold
// (fixMmapThreshold), and, until ctx is done or stop is called, has the C
// allocator's free pages given back (trimFreed), gives the collector
// Headroom (keepHeadroom) and keeps one P in a sleeping system call (the
// anchor); stop returns once its goroutines have.
//
// Why the anchor: the monitor (runtime.sysmon) sleeps deeply while every P
// is idle, and the first system call or cgo call made after that wakes it
// (entersyscallWakeSysmon) and resets its back-off, so it polls every
// 20 µs for at least 50 rounds (a millisecond or more) before it slows
// down. A server goes idle between bursts of requests at any load short of
// saturation, and paid that on every burst: with one client the monitor was
// woken about 400 times a second per server and took a fifth of its CPU,
// and a store cost 18 thread switches (docs/BENCHMARKS.md, "The runtime's
// monitor"). With one P always in the anchor's system call, the process is
// never idle in the monitor's eyes, so the monitor never sleeps deeply, is
// never woken, and backs off to its 10 ms period. The anchor costs one
// wake-up per period.
//
// The monitor's duties are kept, at the 10 ms pace it keeps in any busy
// process: it takes Ps from long system calls when none is free, preempts
// goroutines running for 10 ms, and polls the network when nothing else
// has. The anchor passes through the scheduler between sleeps, or the
// monitor would see one goroutine running for ever and take its P.
func Prepare(ctx context.Context) (stop func()) {
	if os.Getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) < MinProcs {
		runtime.GOMAXPROCS(MinProcs)
	}
	limitArenas()
	fixMmapThreshold()
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { trimFreed(ctx) })
	wg.Go(func() { keepHeadroom(ctx) })
	wg.Go(func() {
		ts := unix.NsecToTimespec(period.Nanoseconds())
		for ctx.Err() == nil {
			// A raw sleep, not time.Sleep: the goroutine must stay in
			// the system call, holding its P, not park and free it.
			_ = unix.Nanosleep(&ts, nil) // EINTR: sleep again
			runtime.Gosched()
		}
	})
	return func() {
		cancel()
		wg.Wait()
	}
}
