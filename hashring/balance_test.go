package hashring

import (
	"math"
	"strconv"
	"testing"
)

// TestBalance shows the cost of few virtual nodes: with 5 servers it logs the
// smallest and largest share of primaries, both sampled over 100k keys and
// exact (Shares), for V = 3, 16 and 64. Run with -v to see the figures.
func TestBalance(t *testing.T) {
	keys := uuidKeys(10, 100_000)
	spread := map[int]float64{}
	for _, v := range []int{3, 16, 64} {
		r := New(members(5), WithVNodes(v))
		counts := map[string]int{}
		for _, k := range keys {
			counts[r.Owners(k, 1)[0]]++
		}
		exact := r.Shares()
		minS, maxS, minE, maxE := 1.0, 0.0, 1.0, 0.0
		for _, s := range r.Servers() {
			sampled := float64(counts[s]) / float64(len(keys))
			if math.Abs(sampled-exact[s]) > 0.01 { // std. error < 0.0015
				t.Errorf("V=%d: %s got %.4f of keys, exact share %.4f", v, s, sampled, exact[s])
			}
			minS, maxS = min(minS, sampled), max(maxS, sampled)
			minE, maxE = min(minE, exact[s]), max(maxE, exact[s])
		}
		spread[v] = maxE - minE
		t.Logf("S=5 V=%-2d  sampled min %.4f max %.4f (max/min %.2f)  exact min %.4f max %.4f  (ideal 0.2)",
			v, minS, maxS, maxS/minS, minE, maxE)
	}
	if spread[64] >= spread[3] {
		t.Errorf("V=64 spread %.4f not below V=3 spread %.4f", spread[64], spread[3])
	}
}

func BenchmarkOwners(b *testing.B) {
	for _, c := range []struct{ s, v int }{{5, 3}, {100, 64}} {
		b.Run("S="+strconv.Itoa(c.s)+"/V="+strconv.Itoa(c.v), func(b *testing.B) {
			r := New(members(c.s), WithVNodes(c.v))
			keys := uuidKeys(11, 1024)
			i := 0
			for b.Loop() {
				r.Owners(keys[i%len(keys)], 3)
				i++
			}
		})
	}
}

// BenchmarkNew measures the cost of rebuilding the ring on membership change.
func BenchmarkNew(b *testing.B) {
	for _, c := range []struct{ s, v int }{{5, 3}, {100, 64}} {
		b.Run("S="+strconv.Itoa(c.s)+"/V="+strconv.Itoa(c.v), func(b *testing.B) {
			servers := members(c.s)
			for b.Loop() {
				New(servers, WithVNodes(c.v))
			}
		})
	}
}
