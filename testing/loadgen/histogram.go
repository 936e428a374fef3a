package loadgen

import (
	"math/bits"
	"time"
)

// Histogram buckets are log-linear, as in HdrHistogram: values below
// subBuckets nanoseconds have a bucket each, and every power of two above
// is cut into halfBuckets equal buckets, so a percentile is within 1/32
// (3 %) of the true value. 64-bit nanoseconds need at most histBuckets.
const (
	subBuckets  = 64
	halfBuckets = subBuckets / 2
	histBuckets = subBuckets + (64-6)*halfBuckets
)

// Histogram records durations in constant memory. The zero Histogram is
// empty and ready to use; it is not safe for concurrent use (each client
// keeps its own and they are merged at the end).
type Histogram struct {
	counts   [histBuckets]uint64
	n        uint64
	min, max time.Duration
}

// bucketOf returns the bucket index of v ≥ 0 nanoseconds.
func bucketOf(v uint64) int {
	if v < subBuckets {
		return int(v)
	}
	shift := bits.Len64(v) - 6 // v>>shift is in [32, 64)
	return subBuckets + (shift-1)*halfBuckets + int(v>>shift) - halfBuckets
}

// bucketRange returns the smallest and largest value of bucket i.
func bucketRange(i int) (lo, hi uint64) {
	if i < subBuckets {
		return uint64(i), uint64(i)
	}
	shift := (i-subBuckets)/halfBuckets + 1
	top := uint64((i-subBuckets)%halfBuckets + halfBuckets)
	lo = top << shift
	return lo, lo + 1<<shift - 1
}

// Record adds one duration; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	d = max(d, 0)
	if h.n == 0 || d < h.min {
		h.min = d
	}
	h.max = max(h.max, d)
	h.counts[bucketOf(uint64(d))]++
	h.n++
}

// Merge adds every value recorded in o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

// Count returns the number of values recorded.
func (h *Histogram) Count() uint64 { return h.n }

// Percentile returns the value below which a fraction q (0 < q ≤ 1) of the
// recorded values lie: the middle of the bucket holding the ⌈q·n⌉-th
// smallest value, clamped to the recorded minimum and maximum. It is 0 for
// an empty histogram.
func (h *Histogram) Percentile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.999999)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := bucketRange(i)
			mid := time.Duration(lo + (hi-lo)/2)
			return min(max(mid, h.min), h.max)
		}
	}
	return h.max
}

// Stats is the JSON form of one operation type's figures: exactly these
// four keys.
type Stats struct {
	OpsPerSec float64 `json:"ops_per_sec"`
	P50ms     float64 `json:"p50_ms"`
	P95ms     float64 `json:"p95_ms"`
	P99ms     float64 `json:"p99_ms"`
}

// Summarize returns h's throughput over the measured window and its
// percentiles in milliseconds.
func (h *Histogram) Summarize(window time.Duration) Stats {
	s := Stats{
		P50ms: ms(h.Percentile(0.50)),
		P95ms: ms(h.Percentile(0.95)),
		P99ms: ms(h.Percentile(0.99)),
	}
	if window > 0 {
		s.OpsPerSec = float64(h.n) / window.Seconds()
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
