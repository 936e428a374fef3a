package faults

import (
	"os"
	"testing"

	"shoplist/cluster/launcher"
	"shoplist/testing/fakeroles"
)

// TestMain runs a fake role (package fakeroles) when the launcher
// re-executes this test binary.
func TestMain(m *testing.M) {
	if role := os.Getenv(launcher.RoleEnv); role != "" && fakeroles.IsFake() {
		if role == launcher.RoleProxy {
			os.Exit(fakeroles.Proxy(os.Args[1:]))
		}
		os.Exit(fakeroles.Server(os.Args[1:]))
	}
	os.Exit(m.Run())
}
