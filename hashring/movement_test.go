package hashring

import (
	"math"
	"slices"
	"testing"
)

// checkMovement compares the rings before and after one server (changed)
// joins or leaves, over keys. Primaries may only move to a joining server or
// away from a leaving one; a preference list of n may only change by the
// changed server entering it (pushing its last element out) or leaving it
// (letting the next server in). It returns the fraction of keys whose primary
// moved.
func checkMovement(t *testing.T, before, after *Ring, changed string, keys []string) float64 {
	t.Helper()
	const n = 3
	joined := after.Len() > before.Len()
	moved := 0
	for _, k := range keys {
		l0, l1 := before.Owners(k, n), after.Owners(k, n)
		if p0, p1 := l0[0], l1[0]; p0 != p1 {
			moved++
			if (joined && p1 != changed) || (!joined && p0 != changed) {
				t.Fatalf("key %s moved %s -> %s, unrelated to %s", k, p0, p1, changed)
			}
		}
		small, big := l0, l1
		if !joined {
			small, big = big, small
		}
		// small is the list without the changed server in the ring, big with.
		if i := slices.Index(big, changed); i < 0 {
			if !slices.Equal(big, small) {
				t.Fatalf("key %s: preference list %q -> %q without %s in it", k, l0, l1, changed)
			}
		} else if !slices.Equal(slices.Delete(slices.Clone(big), i, i+1), small[:n-1]) {
			t.Fatalf("key %s: preference list %q -> %q changed by more than %s", k, l0, l1, changed)
		}
	}
	return float64(moved) / float64(len(keys))
}

// checkMovedFraction asserts that the fraction of keys moved matches the
// exact ring share of the changed server (up to sampling error: the standard
// error for 100k keys is below 0.0015, the tolerance 0.01) and is "about 1/S".
// With V virtual nodes a server's share is roughly a sum of V exponential
// arcs, i.e. Gamma(V)/(V·S), whose relative standard deviation is 1/sqrt(V),
// about 58% for V=3, so "about" here means within [1/(4S), 2.5/S].
func checkMovedFraction(t *testing.T, moved, share float64, s int) {
	t.Helper()
	if math.Abs(moved-share) > 0.01 {
		t.Errorf("moved %.4f of keys, but the changed server's share is %.4f", moved, share)
	}
	if lo, hi := 1/(4*float64(s)), 2.5/float64(s); moved < lo || moved > hi {
		t.Errorf("moved %.4f of keys, want within [%.3f, %.3f] (~1/%d)", moved, lo, hi, s)
	}
}

func TestMinimalMovementAdd(t *testing.T) {
	keys := uuidKeys(5, 100_000)
	before := New(members(5))
	after := before.With("server-6")
	moved := checkMovement(t, before, after, "server-6", keys)
	t.Logf("adding server-6 to 5 servers moved %.4f of primaries (1/6 = %.4f, exact share %.4f)",
		moved, 1.0/6, after.Shares()["server-6"])
	checkMovedFraction(t, moved, after.Shares()["server-6"], 6)
}

func TestMinimalMovementRemove(t *testing.T) {
	keys := uuidKeys(6, 100_000)
	before := New(members(5))
	for _, gone := range before.Servers() {
		t.Run(gone, func(t *testing.T) {
			after := before.Without(gone)
			moved := checkMovement(t, before, after, gone, keys)
			t.Logf("removing %s from 5 servers moved %.4f of primaries (1/5 = 0.2, exact share %.4f)",
				gone, moved, before.Shares()[gone])
			checkMovedFraction(t, moved, before.Shares()[gone], 5)
		})
	}
}
