package storage

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/google/uuid"

	"shoplist/crdt"
)

// The benchmark models five storage servers on one machine: five stores in
// sibling directories, each holding benchLists lists of benchItems items,
// written by benchWriters goroutines per store. Each write is the realistic
// client push: a one-item delta (one more of an existing item, from the
// writer's own replica) merged into a stored 30-item list.
//
// Sub-benchmarks, in the same run on the same engines:
//
//   - savemerge: Store.SaveMerge of the delta;
//   - raw-synced-put: a single synced pebble Set, to the same engine, of the
//     same key with the framed delta part: the engine's floor for one durable
//     write of these bytes.
//
// Both report writes/s (all stores together) and p50/p99 latency.
const (
	benchStores  = 5
	benchLists   = 1000 // per store
	benchItems   = 30
	benchWriters = 32 // goroutines per store
)

type benchFixture struct {
	stores []*Store
	ids    [][]uuid.UUID // ids[store][list]
}

func newBenchFixture(b *testing.B) *benchFixture {
	root := b.TempDir()
	fx := &benchFixture{}
	for i := range benchStores {
		// Production options; engine warnings (write stalls, slow disk) go
		// to stderr.
		log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		s, err := Open(filepath.Join(root, fmt.Sprintf("server-%d", i)), Options{Logger: log})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		fx.stores = append(fx.stores, s)
		fx.ids = append(fx.ids, make([]uuid.UUID, benchLists))
	}
	c := crdt.NewClock(uuid.New())
	var wg sync.WaitGroup
	work := make(chan [2]int)
	for range 64 {
		wg.Go(func() {
			for w := range work {
				l, err := crdt.New(c, fmt.Sprintf("list %d", w[1]))
				if err != nil {
					b.Error(err)
					continue
				}
				for j := range benchItems {
					if err := l.Add(c, fmt.Sprintf("item %02d", j), 2); err != nil {
						b.Error(err)
					}
				}
				fx.ids[w[0]][w[1]] = l.ID()
				if _, err := fx.stores[w[0]].SaveMerge(l); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for s := range benchStores {
		for i := range benchLists {
			work <- [2]int{s, i}
		}
	}
	close(work)
	wg.Wait()
	return fx
}

// benchWorker is one writer goroutine's state.
type benchWorker struct {
	store int
	ids   []uuid.UUID
	rng   *rand.Rand
	clock *crdt.Clock
	local map[int]*crdt.List // this replica's state of the lists it wrote
	lat   []time.Duration
}

// nextDelta makes a one-item edit on a random list and returns the delta.
func (w *benchWorker) nextDelta() *crdt.List {
	i := w.rng.IntN(len(w.ids))
	l := w.local[i]
	if l == nil {
		l = crdt.Empty(w.ids[i])
		w.local[i] = l
	}
	before := l.MaxStamp()
	if err := l.Add(w.clock, fmt.Sprintf("item %02d", w.rng.IntN(benchItems)), 1); err != nil {
		panic(err)
	}
	return l.Delta(before)
}

// runBench runs op from benchWriters goroutines per store and reports
// throughput and latency.
func (fx *benchFixture) runBench(b *testing.B, op func(s *Store, delta *crdt.List) error) float64 {
	var next atomic.Int64
	var mu sync.Mutex // guards lats
	var lats []time.Duration
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((benchStores*benchWriters + procs - 1) / procs) // goroutine n writes to store n%benchStores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		n := int(next.Add(1) - 1)
		w := &benchWorker{
			store: n % benchStores,
			rng:   rand.New(rand.NewPCG(uint64(n), 42)),
			clock: crdt.NewClock(uuid.New()),
			local: map[int]*crdt.List{},
		}
		w.ids = fx.ids[w.store]
		s := fx.stores[w.store]
		for pb.Next() {
			d := w.nextDelta()
			start := time.Now()
			if err := op(s, d); err != nil {
				b.Error(err)
				return
			}
			w.lat = append(w.lat, time.Since(start))
		}
		mu.Lock()
		lats = append(lats, w.lat...)
		mu.Unlock()
	})
	b.StopTimer()
	slices.Sort(lats)
	perSec := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(perSec, "writes/s")
	if len(lats) > 0 {
		b.ReportMetric(float64(lats[len(lats)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lats[len(lats)*99/100].Microseconds())/1000, "p99-ms")
	}
	return perSec
}

// BenchmarkSaveMerge compares SaveMerge with a raw synced put (see above).
// The two alternate, benchRounds times each, on the same stores, so that
// drift in the disk's speed (a shared VM disk varies a lot from second to
// second) hits both alike; the totals are printed at the end.
func BenchmarkSaveMerge(b *testing.B) {
	fx := newBenchFixture(b)
	var merged, raw []float64
	for range benchRounds {
		// b.Run calls its function with growing b.N and reports the last
		// call; last keeps that call's throughput.
		var last float64
		b.Run("savemerge", func(b *testing.B) {
			last = fx.runBench(b, func(s *Store, d *crdt.List) error {
				_, err := s.SaveMerge(d)
				return err
			})
		})
		merged = append(merged, last)
		b.Run("raw-synced-put", func(b *testing.B) {
			last = fx.runBench(b, func(s *Store, d *crdt.List) error {
				part := d.Split()[1]
				key := keyOf(d.ID()).itemKey(part.ItemKeys()[0])
				return s.db.Set(key, appendValue(nil, part.Encode()), pebble.Sync)
			})
		})
		raw = append(raw, last)
	}
	if m, r := median(merged), median(raw); r > 0 {
		// Printed rather than logged: a parent benchmark's log shows only
		// with -v.
		fmt.Printf("BenchmarkSaveMerge summary: savemerge %.0f writes/s, raw synced put %.0f writes/s (median of %d alternating rounds): savemerge at %.0f%% of raw\n",
			m, r, benchRounds, 100*m/r)
	}
}

// benchRounds is how many times each sub-benchmark runs, alternating.
const benchRounds = 3

// median returns the median of xs, or 0 if it is empty.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
