package crdt

import (
	"fmt"
	"testing"
)

// benchList returns a list of n items edited by three replicas, like a
// shared list after a few shopping trips.
func benchList(b *testing.B, n int) *List {
	rs := []*replica{newReplica(1, 0), newReplica(2, 0), newReplica(3, 0)}
	l := rs[0].list
	must(b, l.Rename(rs[0].clock, "benchmark"))
	for i := 0; i < n; i++ {
		r := rs[i%3]
		must(b, l.Add(r.clock, fmt.Sprintf("item %d", i), 2))
		if i%2 == 0 {
			must(b, l.Buy(rs[(i+1)%3].clock, fmt.Sprintf("item %d", i), 1))
		}
	}
	return l
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkDecodeEncode is the cost a hop pays when it decodes and
// re-encodes a whole 50-item list instead of forwarding its bytes.
func BenchmarkDecodeEncode(b *testing.B) {
	data := benchList(b, 50).Encode()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		l, err := Decode(data)
		if err != nil {
			b.Fatal(err)
		}
		_ = l.Encode()
	}
}

// BenchmarkMergeDelta is a one-item delta merged into a decoded 50-item
// list, the in-memory part of a write that ships deltas.
func BenchmarkMergeDelta(b *testing.B) {
	l := benchList(b, 50)
	r := newReplica(4, 0)
	edited := l.Clone()
	point := edited.MaxStamp()
	must(b, edited.Add(r.clock, "item 7", 1))
	delta := edited.Delta(point).Encode()
	b.ReportAllocs()
	for b.Loop() {
		d, err := Decode(delta)
		if err != nil {
			b.Fatal(err)
		}
		must(b, l.Merge(d))
	}
}

// BenchmarkDelta is what a client computes for each push: the one item it
// edited, out of a 50-item list.
func BenchmarkDelta(b *testing.B) {
	l := benchList(b, 50)
	r := newReplica(4, 0)
	point := l.MaxStamp()
	must(b, l.Add(r.clock, "item 7", 1))
	b.ReportAllocs()
	for b.Loop() {
		if d := l.Delta(point); d.Len() != 1 {
			b.Fatalf("delta of one edit holds %d items", d.Len())
		}
	}
}

// BenchmarkDecodeEncodeTombstones decodes and re-encodes a list that had
// 5,000 items, 4,950 of them removed: 50 present and the MaxTombstones
// newest removes kept.
func BenchmarkDecodeEncodeTombstones(b *testing.B) {
	r := newReplica(1, 0)
	l := r.list
	must(b, l.Rename(r.clock, "benchmark"))
	for i := range MaxItems {
		name := fmt.Sprintf("item %d", i)
		must(b, l.Add(r.clock, name, 2))
		if i >= 50 {
			must(b, l.Remove(r.clock, name))
		}
	}
	data := l.Encode()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		d, err := Decode(data)
		if err != nil {
			b.Fatal(err)
		}
		_ = d.Encode()
	}
}
