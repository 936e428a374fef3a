package protocol

import (
	"errors"
	"testing"
)

func TestDigestBucket(t *testing.T) {
	cases := []struct {
		name       string
		start, end uint64
		buckets    int
		pos        uint64
		want       int
		in         bool
	}{
		// (100, 200] in 4 buckets of 25: offsets 1-25, 26-50, 51-75, 76-100.
		{"first position", 100, 200, 4, 101, 0, true},
		{"end of bucket 0", 100, 200, 4, 125, 0, true},
		{"start of bucket 1", 100, 200, 4, 126, 1, true},
		{"range end", 100, 200, 4, 200, 3, true},
		{"range start is outside", 100, 200, 4, 100, 0, false},
		{"past the end", 100, 200, 4, 201, 0, false},
		// A range wrapping past 0: (2^64-10, 10], width 20, 2 buckets of 10.
		{"wrapping, before 0", 1<<64 - 10, 10, 2, 1<<64 - 1, 0, true},
		{"wrapping, at 0", 1<<64 - 10, 10, 2, 0, 0, true},
		{"wrapping, after 0", 1<<64 - 10, 10, 2, 1, 1, true},
		{"wrapping, outside", 1<<64 - 10, 10, 2, 11, 0, false},
		// The whole ring (start == end) in 4 buckets of 2^62 positions.
		{"whole ring, first", 7, 7, 4, 8, 0, true},
		{"whole ring, start itself is last", 7, 7, 4, 7, 3, true},
		{"whole ring, second quarter", 0, 0, 4, 1<<62 + 1, 1, true},
		{"one bucket", 100, 200, 1, 150, 0, true},
	}
	for _, c := range cases {
		got, in := DigestBucket(c.start, c.end, c.buckets, c.pos)
		if got != c.want || in != c.in {
			t.Errorf("%s: DigestBucket(%d, %d, %d, %d) = %d, %v; want %d, %v", c.name, c.start, c.end, c.buckets, c.pos, got, in, c.want, c.in)
		}
	}
}

func TestDigestBucketsPartitionTheRange(t *testing.T) {
	// Every position of a small range falls in exactly one bucket, and the
	// buckets are contiguous and as equal as integer division allows.
	const start, end, buckets = 1000, 1097, 8
	counts := make([]int, buckets)
	last := 0
	for pos := uint64(start + 1); pos <= end; pos++ {
		b, ok := DigestBucket(start, end, buckets, pos)
		if !ok || b < last {
			t.Fatalf("position %d: bucket %d (in %v) after bucket %d", pos, b, ok, last)
		}
		counts[b]++
		last = b
	}
	for i, n := range counts {
		if n < 97/buckets || n > 97/buckets+1 {
			t.Errorf("bucket %d holds %d positions; want 12 or 13", i, n)
		}
	}
}

func TestDigestBodiesRefuseBadValues(t *testing.T) {
	bad := []DigestBody{
		{Buckets: 0},
		{Buckets: MaxDigestBuckets + 1},
		{Buckets: 4, Want: []int{4}},
		{Buckets: 4, Want: []int{2, 1}},
		{Buckets: 4, Want: []int{1, 1}},
	}
	for _, b := range bad {
		if _, err := b.Encode(); !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
			t.Errorf("%+v: Encode error %v, want ErrMalformed or ErrTooLarge", b, err)
		}
	}
	if _, err := (DigestReplyBody{}).Encode(); !errors.Is(err, ErrMalformed) {
		t.Errorf("a reply without buckets: %v, want ErrMalformed", err)
	}
	twice := DigestReplyBody{Buckets: []BucketSum{{}}, Entries: []DigestEntry{{List: listA}, {List: listA}}}
	if _, err := twice.Encode(); !errors.Is(err, ErrMalformed) {
		t.Errorf("a repeated entry: %v, want ErrMalformed", err)
	}
	for _, body := range [][]byte{
		{0x92, 0x01, 0x02},                               // 2 fields
		{0x94, 0x01, 0x02, 0x03, 0x04},                   // 4 fields
		{0x96, 0x01, 0x02, 0x03, 0x04, 0x05, 0x02},       // reset 2
		{0x97, 0x01, 0x02, 0x03, 0x04, 0x05, 0x01, 0x00}, // 7 fields
	} {
		if _, err := DecodeServerReportBody(body); !errors.Is(err, ErrMalformed) {
			t.Errorf("report %x: %v, want ErrMalformed", body, err)
		}
	}
}

// TestAThreeFieldServerReportStillDecodes: a server that predates the
// corruption counts sends [lists, hints, moving]; it decodes with them zero.
func TestAThreeFieldServerReportStillDecodes(t *testing.T) {
	b, err := DecodeServerReportBody([]byte{0x93, 0xcd, 0x01, 0x2c, 0x02, 0x01})
	if want := (ServerReportBody{Lists: 300, Hints: 2, Moving: 1}); err != nil || b != want {
		t.Fatalf("3-field report: %+v, %v; want %+v", b, err, want)
	}
}
