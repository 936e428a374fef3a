package loadgen

import (
	"math"
	"testing"
	"time"
)

func TestBucketsCoverEveryValueOnce(t *testing.T) {
	prevHi := uint64(0)
	for i := range histBuckets {
		lo, hi := bucketRange(i)
		if i > 0 && lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, previous ended at %d", i, lo, prevHi)
		}
		if bucketOf(lo) != i || bucketOf(hi) != i {
			t.Fatalf("bucket %d = [%d, %d] but bucketOf gives %d and %d", i, lo, hi, bucketOf(lo), bucketOf(hi))
		}
		prevHi = hi
	}
	if bucketOf(math.MaxInt64) >= histBuckets {
		t.Fatalf("the largest duration falls outside the buckets")
	}
}

func TestPercentilesOfKnownData(t *testing.T) {
	var h Histogram
	for i := 1; i <= 1000; i++ { // 1 µs … 1000 µs, each once
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.50, 500 * time.Microsecond}, {0.95, 950 * time.Microsecond}, {0.99, 990 * time.Microsecond}, {1, 1000 * time.Microsecond}} {
		got := h.Percentile(c.q)
		if rel := math.Abs(float64(got-c.want)) / float64(c.want); rel > 1.0/32 {
			t.Errorf("p%v = %v, want %v within 3%%", c.q*100, got, c.want)
		}
	}
	if h.Percentile(0.001) != time.Microsecond {
		t.Errorf("lowest percentile %v, want the minimum 1µs", h.Percentile(0.001))
	}
	s := h.Summarize(2 * time.Second)
	if s.OpsPerSec != 500 || !(s.P50ms <= s.P95ms && s.P95ms <= s.P99ms) {
		t.Errorf("summary %+v: want 500 ops/s and ordered percentiles", s)
	}
}

func TestSmallValuesAreExact(t *testing.T) {
	var h Histogram
	for _, v := range []time.Duration{3, 7, 7, 9} {
		h.Record(v)
	}
	if got := h.Percentile(0.5); got != 7 {
		t.Errorf("median %v, want 7ns", got)
	}
	if got := h.Percentile(1); got != 9 {
		t.Errorf("max %v, want 9ns", got)
	}
}

func TestMergeEqualsRecordingTogether(t *testing.T) {
	var a, b, all Histogram
	for i := range 500 {
		d := time.Duration(i*i) * time.Microsecond
		all.Record(d)
		if i%2 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	a.Merge(&b)
	if a != all {
		t.Fatalf("merged histogram differs from the one recorded at once")
	}
	var empty Histogram
	if empty.Percentile(0.5) != 0 || empty.Summarize(time.Second) != (Stats{}) {
		t.Errorf("an empty histogram must summarise to zeros")
	}
}
