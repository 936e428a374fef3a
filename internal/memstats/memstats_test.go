package memstats

import (
	"runtime"
	"testing"
)

func TestParseStatusReadsTheResidentLinesInBytes(t *testing.T) {
	raw := []byte("Name:\tserver\nVmPeak:\t  999 kB\nVmRSS:\t  3000 kB\nRssAnon:\t  2000 kB\nRssFile:\t   900 kB\nRssShmem:\t 100 kB\n")
	got := parseStatus(raw)
	if want := (Resident{Total: 3000 << 10, Anon: 2000 << 10, File: 900 << 10}); got != want {
		t.Fatalf("parseStatus = %+v, want %+v", got, want)
	}
	if got := parseStatus([]byte("garbage\nVmRSS:\n")); got != (Resident{}) {
		t.Fatalf("parseStatus of nothing usable = %+v, want zeros", got)
	}
}

// TestTheReadingsAddUp: this process's figures are consistent with each
// other: the resident set has its parts, the Go heap holds what the test
// keeps live, and the runtime's classes are not negative.
func TestTheReadingsAddUp(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	keep := make([]byte, 32<<20)
	for i := range keep {
		keep[i] = 1
	}
	runtime.GC()
	r, g, c := ReadResident(), ReadGoRuntime(), ReadCAllocator()
	if r.Total < int64(len(keep)) || r.Anon+r.File > r.Total+(1<<20) {
		t.Errorf("resident %+v with %d bytes touched", r, len(keep))
	}
	if g.HeapLive < int64(len(keep)) || g.Mapped() < g.HeapLive || g.HeapHeld < 0 || g.Other < 0 || g.Stacks <= 0 {
		t.Errorf("Go runtime %+v with %d bytes live", g, len(keep))
	}
	if c.InUse < 0 || c.Free < 0 || c.Mapped > c.InUse {
		t.Errorf("C allocator %+v", c)
	}
	runtime.KeepAlive(keep)
}
