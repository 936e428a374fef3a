package storage

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// BenchmarkFetchEncoding compares the ways a server can answer a fetch with
// the canonical encoding of a stored 30-item list (items of the realistic
// shape: a few replicas' slots each):
//
//   - load+encode: Load (decode and merge every part) then Encode;
//   - assemble: LoadEncoded with the cache disabled, every call a miss that
//     concatenates the stored parts;
//   - cached: LoadEncoded in the steady state, served from the cache;
//   - cached-1000-lists: LoadEncoded over 1,000 lists picked at random, all
//     of which fit in the cache.
func BenchmarkFetchEncoding(b *testing.B) {
	ids, fill := benchFetchLists(b, 1000)
	plain := openBenchStore(b, -1)
	cached := openBenchStore(b, 0)
	fill(plain)
	fill(cached)
	id := ids[0]
	b.Run("load+encode", func(b *testing.B) {
		for b.Loop() {
			l, err := plain.Load(id)
			if err != nil {
				b.Fatal(err)
			}
			_ = l.Encode()
		}
	})
	b.Run("assemble", func(b *testing.B) {
		for b.Loop() {
			if _, err := plain.LoadEncoded(id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := cached.LoadEncoded(id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached-1000-lists", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(1, 2))
		for b.Loop() {
			if _, err := cached.LoadEncoded(ids[rng.IntN(len(ids))]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// openBenchStore opens a store with the encoded cache bounded by cacheSize.
func openBenchStore(b *testing.B, cacheSize int64) *Store {
	opts := Options{Logger: testOptions(b).Logger, EncodedCacheSize: cacheSize} // production engine caches
	s, err := Open(b.TempDir(), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// benchFetchLists makes n lists of benchItems items, each item edited by
// three replicas, and returns their IDs and a function storing them all.
func benchFetchLists(b *testing.B, n int) ([]uuid.UUID, func(*Store)) {
	clocks := []*crdt.Clock{crdt.NewClock(uuid.New()), crdt.NewClock(uuid.New()), crdt.NewClock(uuid.New())}
	lists := make([]*crdt.List, n)
	ids := make([]uuid.UUID, n)
	for i := range lists {
		l, err := crdt.New(clocks[0], fmt.Sprintf("list %d", i))
		if err != nil {
			b.Fatal(err)
		}
		for j := range benchItems {
			for _, c := range clocks {
				if err := l.Add(c, fmt.Sprintf("item %02d", j), 1); err != nil {
					b.Fatal(err)
				}
			}
		}
		lists[i], ids[i] = l, l.ID()
	}
	return ids, func(s *Store) {
		for _, l := range lists {
			if _, err := s.SaveMerge(l); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkFetchAfterWrite is a server's work when a list is written and
// then read, as a client pulls what it pushed: a one-item write committed
// without its sync (a server's batch shares one), then LoadEncoded. With
// the cache the write splices its part into the cached encoding and the
// read is a hit; without it, every read assembles the list.
func BenchmarkFetchAfterWrite(b *testing.B) {
	ids, fill := benchFetchLists(b, 1)
	for _, bc := range []struct {
		name  string
		cache int64
	}{{"spliced", 0}, {"assembled", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			s := openBenchStore(b, bc.cache)
			fill(s)
			c := crdt.NewClock(uuid.New())
			if _, err := s.LoadEncoded(ids[0]); err != nil {
				b.Fatal(err)
			}
			i := 0
			for b.Loop() {
				d := crdt.Empty(ids[0])
				if err := d.Add(c, fmt.Sprintf("item %02d", i%benchItems), 1); err != nil {
					b.Fatal(err)
				}
				i++
				if _, _, err := s.SaveMergeIfUnsynced(d, nil); err != nil {
					b.Fatal(err)
				}
				if _, err := s.LoadEncoded(ids[0]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
