package profiling

import (
	"os"
	"path/filepath"
	"testing"
)

func TestStartWritesCPUAndHeapProfilesWhereTheVariableSays(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvVar, dir)
	stop, err := Start("server")
	if err != nil {
		t.Fatal(err)
	}
	sum := 0
	for i := range 1_000_000 {
		sum += i % 7
	}
	_ = sum
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"cpu", "heap"} {
		matches, _ := filepath.Glob(filepath.Join(dir, "server-*."+kind+".pprof"))
		if len(matches) != 1 {
			t.Fatalf("%s profiles %v, want one", kind, matches)
		}
		raw, err := os.ReadFile(matches[0])
		if err != nil {
			t.Fatal(err)
		}
		// A profile is a gzipped protocol buffer.
		if len(raw) < 20 || raw[0] != 0x1f || raw[1] != 0x8b {
			t.Fatalf("%s is not a profile: %d bytes", matches[0], len(raw))
		}
	}
}

func TestStartDoesNothingWithoutTheVariable(t *testing.T) {
	t.Setenv(EnvVar, "")
	stop, err := Start("proxy")
	if err != nil || stop() != nil {
		t.Fatalf("Start without %s: %v", EnvVar, err)
	}
}
