package proxy

import (
	"maps"
	"runtime"
	"syscall"
	"testing"
	"time"

	"shoplist/cluster/antientropy"
)

// BenchmarkAntiEntropyRound measures one anti-entropy round over the
// loopback: three replicas holding 10,000 lists each, rounds back to back
// (the interval is a nanosecond), one op per round; ns/op is a round's wall
// time. It reports the bytes a round moves and the process CPU per round,
// split into the fake replicas' (the benchmark goroutine, locked to its
// thread, computing digests by brute force where a real server keeps an
// index) and the rest: the proxy's loop, ZeroMQ's I/O thread (both sides')
// and the runtime, an upper bound on the proxy's cost.
//
//	in-sync:  every replica identical: three Digests and their replies.
//	missing:  one replica lacks 1% of the lists and forgets the Stores it
//	          acknowledges, so every round finds, fetches and repairs them.
func BenchmarkAntiEntropyRound(b *testing.B) {
	b.Run("in-sync", func(b *testing.B) { benchRounds(b, 0) })
	b.Run("missing-1pct", func(b *testing.B) { benchRounds(b, 100) })
}

func benchRounds(b *testing.B, missing int) {
	p, lead := startAEProxy(b, time.Nanosecond, 5*time.Second)
	reps := joinReplicas(b, p, 3)
	states := newStates(b, 10_000)
	for _, r := range reps {
		maps.Copy(r.lists, states)
	}
	dropped := 0
	for id := range reps[2].lists {
		if dropped == missing {
			break
		}
		delete(reps[2].lists, id)
		dropped++
	}
	reps[2].forget = true
	for _, r := range reps {
		r.reset()
	}

	runtime.LockOSThread() // the replicas' CPU is this thread's
	defer runtime.UnlockOSThread()
	before := aeStatsOf(b, p)
	cpu0, pump0 := cpuTime(b, rusageSelf), cpuTime(b, rusageThread)
	b.ResetTimer()
	lead.leader.Store(true)
	polls := 0
	var after antientropy.Stats
	serve(b, reps, nil, func() bool {
		if polls++; polls%8 != 0 {
			return false
		}
		after = aeStatsOf(b, p)
		return after.Rounds-before.Rounds >= uint64(b.N)
	})
	lead.leader.Store(false)
	b.StopTimer()
	cpu, fake := cpuTime(b, rusageSelf)-cpu0, cpuTime(b, rusageThread)-pump0

	rounds := float64(after.Rounds - before.Rounds)
	b.ReportMetric(float64(after.BytesSent-before.BytesSent)/rounds, "sent-B/round")
	b.ReportMetric(float64(after.BytesReceived-before.BytesReceived)/rounds, "recv-B/round")
	b.ReportMetric(float64(after.ListsRepaired-before.ListsRepaired)/rounds, "repaired/round")
	b.ReportMetric(float64(cpu.Microseconds())/rounds, "cpu-µs/round")
	b.ReportMetric(float64(fake.Microseconds())/rounds, "replicas-cpu-µs/round")
	b.ReportMetric(float64((cpu-fake).Microseconds())/rounds, "proxy-cpu-µs/round")
}

// Getrusage targets: the process, or the calling thread (Linux).
const (
	rusageSelf   = syscall.RUSAGE_SELF
	rusageThread = 1 // RUSAGE_THREAD
)

// cpuTime returns the CPU time (user + system) who has used.
func cpuTime(tb testing.TB, who int) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
