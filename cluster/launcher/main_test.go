package launcher

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMain runs a role when the launcher re-executes this test binary: a
// fake one (fake_test.go) when it was started as fakeExeName, else the real
// proxy or server.
func TestMain(m *testing.M) {
	if role := os.Getenv(RoleEnv); role != "" && filepath.Base(os.Args[0]) == fakeExeName {
		os.Exit(runFake(role, os.Args[1:]))
	}
	if ran, code := RunChild(); ran {
		os.Exit(code)
	}
	os.Exit(m.Run())
}
