package integration

import (
	"os"
	"testing"

	"shoplist/cluster/launcher"
)

// TestMain runs a cluster role when launcher.Launch re-executes this test
// binary.
func TestMain(m *testing.M) {
	if ran, code := launcher.RunChild(); ran {
		os.Exit(code)
	}
	os.Exit(m.Run())
}
