// Package profiling writes a process's CPU and heap profiles where
// SHOPLIST_PPROF says, so that anyone can repeat a benchmark's profiles.
package profiling

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
)

// EnvVar names the directory profiles go to; unset or empty, nothing is
// profiled. Children a launcher starts inherit it, so one variable
// profiles a whole cluster (`SHOPLIST_PPROF=/tmp/prof bin/bench ...`).
const EnvVar = "SHOPLIST_PPROF"

// Start begins a CPU profile of this process in $SHOPLIST_PPROF, in the
// file ROLE-PID.cpu.pprof, if the variable is set. The returned function
// stops it and writes the heap profile beside it (ROLE-PID.heap.pprof);
// call it once, when the process stops. It returns an error only when the
// variable is set and the profile cannot be written.
func Start(role string) (stop func() error, err error) {
	dir := os.Getenv(EnvVar)
	if dir == "" {
		return func() error { return nil }, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("profiling: %w", err)
	}
	base := filepath.Join(dir, fmt.Sprintf("%s-%d", role, os.Getpid()))
	cpu, err := os.Create(base + ".cpu.pprof")
	if err != nil {
		return nil, fmt.Errorf("profiling: %w", err)
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		cpu.Close()
		return nil, fmt.Errorf("profiling: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		err := cpu.Close()
		heap, herr := os.Create(base + ".heap.pprof")
		if herr != nil {
			return fmt.Errorf("profiling: %w", herr)
		}
		runtime.GC() // the heap profile shows live objects as of the last GC
		if werr := pprof.WriteHeapProfile(heap); werr != nil && err == nil {
			err = werr
		}
		if cerr := heap.Close(); cerr != nil && err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("profiling: %w", err)
		}
		return nil
	}, nil
}
