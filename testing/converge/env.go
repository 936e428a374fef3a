package converge

import (
	"os"
	"testing"
	"time"
)

// EnvDuration reads a duration from the environment variable name, def if
// it is unset; anything but a positive duration fails the test.
func EnvDuration(t testing.TB, name string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a positive duration", name, v)
	}
	return d
}
