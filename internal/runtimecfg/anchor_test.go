package runtimecfg

import (
	"context"
	"os"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestPrepareStopsItsAnchorWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	stop := Prepare(ctx)
	if os.Getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) < MinProcs {
		t.Fatalf("GOMAXPROCS is %d after Prepare, want at least %d", runtime.GOMAXPROCS(0), MinProcs)
	}
	cancel()
	done := make(chan struct{})
	go func() { stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the anchor did not stop within 10s of its context ending")
	}
}

// BenchmarkBurstAfterIdle measures what the anchor is for: a process that
// idles until a descriptor wakes it — a timerfd here, standing for a
// socket's — and then spends a millisecond in a system call, as a
// server's fsync does. It reports the process's thread switches per wake-up; compare the two
// sub-benchmarks.
func BenchmarkBurstAfterIdle(b *testing.B) {
	for _, anchored := range []bool{false, true} {
		name := "bare"
		if anchored {
			name = "anchored"
		}
		b.Run(name, func(b *testing.B) {
			if anchored {
				ctx, cancel := context.WithCancel(context.Background())
				defer Prepare(ctx)()
				defer cancel()
			}
			fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
			if err != nil {
				b.Fatal(err)
			}
			timer := os.NewFile(uintptr(fd), "timerfd") // in Go's poller: waiting parks, every P idle
			defer timer.Close()
			// Every 2 ms: a wake-up the runtime's timers know nothing of.
			every := unix.NsecToTimespec((2 * time.Millisecond).Nanoseconds())
			spec := unix.ItimerSpec{Interval: every, Value: every}
			if err := unix.TimerfdSettime(fd, 0, &spec, nil); err != nil {
				b.Fatal(err)
			}
			busy := unix.NsecToTimespec(time.Millisecond.Nanoseconds())
			buf := make([]byte, 8)
			before := switches(b)
			for b.Loop() {
				if _, err := timer.Read(buf); err != nil {
					b.Fatal(err)
				}
				// A millisecond in a system call, as a write's fsync
				// takes: entering it wakes the monitor if it sleeps
				// deeply, and a P busy keeps it from sleeping again.
				_ = unix.Nanosleep(&busy, nil)
			}
			b.ReportMetric(float64(switches(b)-before)/float64(b.N), "switches/op")
		})
	}
}

// switches returns the process's thread switches so far, voluntary and not.
func switches(b *testing.B) int64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Nvcsw + ru.Nivcsw
}
