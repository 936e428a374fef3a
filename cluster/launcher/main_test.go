package launcher

import (
	"os"
	"testing"

	"shoplist/testing/fakeroles"
)

// TestMain runs a role when the launcher re-executes this test binary: a
// fake one (package fakeroles) when it was started through fakeroles.Exe,
// else the real proxy or server.
func TestMain(m *testing.M) {
	if role := os.Getenv(RoleEnv); role != "" && fakeroles.IsFake() {
		if role == RoleProxy {
			os.Exit(fakeroles.Proxy(os.Args[1:]))
		}
		os.Exit(fakeroles.Server(os.Args[1:]))
	}
	if ran, code := RunChild(); ran {
		os.Exit(code)
	}
	os.Exit(m.Run())
}
