package storage

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// openWithCache opens a store in a fresh directory with the encoded cache
// bounded by size (0: the default; negative: disabled).
func openWithCache(t *testing.T, size int64) *Store {
	t.Helper()
	opts := testOptions(t)
	opts.EncodedCacheSize = size
	s, err := Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// sameEncoding fails the test unless LoadEncoded returns exactly the
// encoding of what Load returns, twice in a row (the second may be a hit).
func sameEncoding(t *testing.T, s *Store, id uuid.UUID) {
	t.Helper()
	want := mustLoad(t, s, id).Encode()
	for i := range 2 {
		got, err := s.LoadEncoded(id)
		if err != nil {
			t.Fatalf("LoadEncoded(%s) call %d: %v", id, i+1, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("LoadEncoded(%s) call %d differs from Load+Encode:\n got %x\nwant %x", id, i+1, got, want)
		}
	}
}

// TestLoadEncodedIsLoadThenEncode: for lists of every shape the assembly
// meets (no name part, a name part only, item counts on both sides of the
// fixarray limit, names and keys that need wider string headers, tombstones,
// several replicas' slots) and after every push of a random history,
// LoadEncoded gives exactly Load followed by Encode, with the cache and
// without it.
func TestLoadEncodedIsLoadThenEncode(t *testing.T) {
	for _, size := range []int64{0, -1} {
		t.Run(fmt.Sprintf("cache=%d", size), func(t *testing.T) {
			s := openWithCache(t, size)
			c := crdt.NewClock(uuid.New())

			noName := crdt.Empty(uuid.New())
			if err := noName.Add(c, "milk", 2); err != nil {
				t.Fatal(err)
			}
			nameOnly := newList(t, c, strings.Repeat("long name ", 15)) // str 8
			wide := newList(t, c, "wide keys", strings.Repeat("ﷺ", 18)) // NFKC key of 594 bytes: str 16
			shapes := []*crdt.List{noName, nameOnly, wide}
			for _, n := range []int{1, 15, 16, 300} {
				l := newList(t, c, fmt.Sprintf("%d items", n))
				for i := range n {
					if err := l.Add(c, fmt.Sprintf("item %03d", i), 1); err != nil {
						t.Fatal(err)
					}
				}
				shapes = append(shapes, l)
			}
			for _, l := range shapes {
				mustSave(t, s, l)
				sameEncoding(t, s, l.ID())
			}

			rng := rand.New(rand.NewPCG(3, 5))
			base := newList(t, c, "random")
			reps := []*crdt.Clock{crdt.NewClock(uuid.New()), crdt.NewClock(uuid.New()), crdt.NewClock(uuid.New())}
			// Named replicas sign items (fixstr and str 8 names); the
			// unnamed one clears a signature.
			if reps[0].SetAuthor("Ann") != nil || reps[1].SetAuthor(strings.Repeat("b", crdt.MaxAuthorBytes)) != nil {
				t.Fatal("setting the authors")
			}
			states := []*crdt.List{base.Clone(), base.Clone(), base.Clone()}
			mustSave(t, s, base)
			for range 200 {
				r := rng.IntN(len(reps))
				before := states[r].MaxStamp()
				randomEdit(rng, reps[r], states[r])
				mustSave(t, s, states[r].Delta(before))
				sameEncoding(t, s, base.ID())
			}
		})
	}
}

// TestLoadEncodedAfterDelete: an absent list is ErrNotFound; a cached list
// that is deleted is ErrNotFound at once, and comes back with its new state
// when stored again.
func TestLoadEncodedAfterDelete(t *testing.T) {
	s := openWithCache(t, 0)
	c := crdt.NewClock(uuid.New())
	if _, err := s.LoadEncoded(uuid.New()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("LoadEncoded of an absent list: %v, want ErrNotFound", err)
	}
	l := newList(t, c, "doomed", "a", "b")
	mustSave(t, s, l)
	sameEncoding(t, s, l.ID())
	if err := s.Delete(l.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadEncoded(l.ID()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("LoadEncoded after Delete: %v, want ErrNotFound", err)
	}
	again := crdt.Empty(l.ID())
	if err := again.Add(c, "c", 1); err != nil {
		t.Fatal(err)
	}
	mustSave(t, s, again)
	got, err := s.LoadEncoded(l.ID())
	if err != nil || !bytes.Equal(got, again.Encode()) {
		t.Fatalf("LoadEncoded after storing again = %x, %v; want %x", got, err, again.Encode())
	}
}

// TestLoadEncodedCorruption: every kind of bad value is reported as Load
// reports it (ErrCorrupt naming the key, the value quarantined), not
// served, when the list was not cached before.
func TestLoadEncodedCorruption(t *testing.T) {
	l, cases := corruptionCases(t, crdt.NewClock(uuid.New()))
	for name, corrupt := range cases {
		t.Run(name, func(t *testing.T) {
			s := openWithCache(t, 0)
			mustSave(t, s, l)
			key, value := corrupt(s)
			rawSet(t, s, key, value)
			_, err := s.LoadEncoded(l.ID())
			wantCorrupt(t, "LoadEncoded", err, key)
			if q, err := s.Quarantined(); err != nil || len(q) != 1 || !bytes.Equal(q[0].Value, value) {
				t.Fatalf("Quarantined = %+v, %v", q, err)
			}
		})
	}
}

// TestLoadEncodedCachedThenCorrupted: a cached encoding was verified when it
// was read, so a value that rots on disk afterwards does not change it; but
// once a read finds the rot and marks the list damaged, LoadEncoded refuses
// the list too, until Repair.
func TestLoadEncodedCachedThenCorrupted(t *testing.T) {
	s := openWithCache(t, 0)
	c := crdt.NewClock(uuid.New())
	l := newList(t, c, "list", "milk", "eggs")
	mustSave(t, s, l)
	sameEncoding(t, s, l.ID())
	milk := keyOf(l.ID()).itemKey("milk")
	v := rawGet(t, s, milk)
	v[len(v)-2] ^= 0x01
	rawSet(t, s, milk, v)
	if got, err := s.LoadEncoded(l.ID()); err != nil || !bytes.Equal(got, l.Encode()) {
		t.Fatalf("LoadEncoded of the cached list = %v, want its verified state", err)
	}
	_, err := s.Load(l.ID())
	wantCorrupt(t, "Load", err, milk)
	_, err = s.LoadEncoded(l.ID())
	wantCorrupt(t, "LoadEncoded after Load found the rot", err, milk)
	if _, err := s.Repair(l.ID()); err != nil {
		t.Fatal(err)
	}
	sameEncoding(t, s, l.ID())
	if got := mustLoad(t, s, l.ID()).ItemKeys(); len(got) != 1 || got[0] != "eggs" {
		t.Fatalf("items after Repair: %q, want eggs", got)
	}
}

// TestLoadEncodedSeesReturnedWrites: writers add items to a few lists (some
// sharing a stripe, so their writes invalidate each other's reads) while
// readers call LoadEncoded; a read that starts after a SaveMerge returned
// always holds that write. Run with -race.
func TestLoadEncodedSeesReturnedWrites(t *testing.T) {
	const writers, rounds, readers = 4, 60, 4
	s := openWithCache(t, 0)
	ids := sameStripeIDs(3)
	var done [writers]atomic.Int64 // items each writer has had acknowledged
	var wg sync.WaitGroup
	var stop atomic.Bool
	for w := range writers {
		wg.Go(func() {
			c := crdt.NewClock(uuid.New())
			for i := range rounds {
				d := crdt.Empty(ids[w%len(ids)])
				if err := d.Add(c, fmt.Sprintf("w%d-%03d", w, i), 1); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.SaveMerge(d); err != nil {
					t.Error(err)
					return
				}
				done[w].Store(int64(i + 1))
			}
		})
	}
	var rwg sync.WaitGroup
	var reads atomic.Int64
	for r := range readers {
		rwg.Go(func() {
			for !stop.Load() {
				w := r % writers
				acked := done[w].Load() // before the read starts
				if acked == 0 {
					continue
				}
				enc, err := s.LoadEncoded(ids[w%len(ids)])
				if err != nil {
					t.Error(err)
					return
				}
				l, err := crdt.Decode(enc)
				if err != nil {
					t.Errorf("LoadEncoded returned bytes that do not decode: %v", err)
					return
				}
				for i := range acked {
					if _, ok := l.Lookup(fmt.Sprintf("w%d-%03d", w, i)); !ok {
						t.Errorf("read started after write %d of writer %d returned, but misses it", i, w)
						return
					}
				}
				reads.Add(1)
			}
		})
	}
	wg.Wait()
	stop.Store(true)
	rwg.Wait()
	if reads.Load() == 0 {
		t.Fatal("no read ran concurrently with the writes")
	}
	for _, id := range ids {
		sameEncoding(t, s, id)
	}
}

// sameStripeIDs returns n list IDs whose lists share one stripe.
func sameStripeIDs(n int) []uuid.UUID {
	byStripe := map[uint64][]uuid.UUID{}
	for {
		id := uuid.New()
		st := keyOf(id).position() % stripeCount
		byStripe[st] = append(byStripe[st], id)
		if len(byStripe[st]) == n {
			return byStripe[st]
		}
	}
}

// TestEncodedCacheBounded: the cache never holds more bytes than its bound
// and still serves correct encodings once it evicts.
func TestEncodedCacheBounded(t *testing.T) {
	const bound = 64 << 10
	s := openWithCache(t, bound)
	c := crdt.NewClock(uuid.New())
	var ids []uuid.UUID
	for i := range 60 {
		l := newList(t, c, fmt.Sprintf("list %d", i))
		for j := range 30 {
			if err := l.Add(c, fmt.Sprintf("item %02d", j), 1); err != nil {
				t.Fatal(err)
			}
		}
		mustSave(t, s, l)
		ids = append(ids, l.ID())
	}
	for range 2 {
		for _, id := range ids {
			sameEncoding(t, s, id)
			if used, _ := s.encoded.usage(); used > bound {
				t.Fatalf("cache holds %d bytes, bound %d", used, bound)
			}
		}
	}
	if used, n := s.encoded.usage(); n == 0 || n == len(ids) || used < bound/2 {
		t.Fatalf("cache holds %d entries (%d bytes) of %d lists: want it full, and evicting", n, used, len(ids))
	}
}

func TestCachedEncodedOnlyAnswersFromTheCache(t *testing.T) {
	s := openWithCache(t, 1<<20)
	c := crdt.NewClock(uuid.New())
	l := newList(t, c, "weekly", "milk", "eggs")
	mustSave(t, s, l)
	if _, ok := s.CachedEncoded(l.ID()); ok {
		t.Fatal("hit before anything was read")
	}
	enc, err := s.LoadEncoded(l.ID())
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := s.CachedEncoded(l.ID()); !ok || !bytes.Equal(got, enc) {
		t.Fatalf("after a read: hit %v, equal %v", ok, bytes.Equal(got, enc))
	}
	if err := l.Add(c, "bread", 1); err != nil {
		t.Fatal(err)
	}
	mustSave(t, s, l)
	if got, ok := s.CachedEncoded(l.ID()); ok && !bytes.Equal(got, l.Encode()) {
		t.Fatal("a write that changed the list left its old encoding cached")
	}
	s.Close()
	if _, ok := s.CachedEncoded(l.ID()); ok {
		t.Fatal("hit on a closed store")
	}
}

// TestAssembleTakesDeletedAndSignedLists: the fast path itself (not the
// fallback through Load) assembles lists whose header holds a deletion, with
// and without a floor, and whose items carry their author, byte for byte as
// Load and Encode; and the floor is read from such a header without
// decoding it.
func TestAssembleTakesDeletedAndSignedLists(t *testing.T) {
	s := openWithCache(t, -1)
	c := crdt.NewClock(uuid.New())
	for _, name := range []string{"Al", strings.Repeat("é", crdt.MaxAuthorBytes/2)} {
		if err := c.SetAuthor(name); err != nil {
			t.Fatal(err)
		}
		l := newList(t, c, "shared", "milk", "eggs", "bread")
		deleted := l.Clone()
		if err := deleted.Delete(c); err != nil {
			t.Fatal(err)
		}
		restored := deleted.Clone()
		if err := restored.Restore(c); err != nil {
			t.Fatal(err)
		}
		compacted := deleted.Clone()
		compacted.Compact(compacted.MaxStamp())
		for _, l := range []*crdt.List{l, deleted, restored, compacted, deleted.Split()[0]} {
			l = l.Clone()
			id := uuid.New()
			moved := crdt.Empty(id)
			if err := moved.Merge(reID(t, l, id)); err != nil {
				t.Fatal(err)
			}
			mustSave(t, s, moved)
			want := mustLoad(t, s, id).Encode()
			got, _, err := s.assemble(keyOf(id))
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("assemble (deleted %v, floor %v) = %x, %v; want %x", moved.Deleted(), moved.Floor(), got, err, want)
			}
			head := moved.Split()[0]
			if floor, ok := namePartFloor(keyOf(id), head.Encode()); !ok || floor != head.Floor() {
				t.Fatalf("floor of a header (deleted %v): %v %v, want %v", moved.Deleted(), floor, ok, head.Floor())
			}
		}
	}
}

// reID returns l's state under another list ID, so that each shape is a
// list of its own in one store.
func reID(t *testing.T, l *crdt.List, id uuid.UUID) *crdt.List {
	t.Helper()
	enc := l.Encode()
	old := l.ID()
	i := bytes.Index(enc, old[:])
	out := append(append(append([]byte{}, enc[:i]...), id[:]...), enc[i+16:]...)
	moved, err := crdt.Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	return moved
}

// TestNamePartShapeRefusesAMisshapenDeletion: a header whose deletion is
// not exactly [bin28, bool, str] is left to the decoder.
func TestNamePartShapeRefusesAMisshapenDeletion(t *testing.T) {
	c := crdt.NewClock(uuid.New())
	l := newList(t, c, "shared")
	if err := l.Delete(c); err != nil {
		t.Fatal(err)
	}
	enc := l.Split()[0].Encode()
	body := enc[2+2+16 : len(enc)-1] // after [7, 2, id; before the item array
	if !namePartShape(enc[0], body) {
		t.Fatal("a well-formed deleted header refused")
	}
	flag := len(body) - 2 // [..., bool, "" (0xa0)]
	for name, mutate := range map[string]func(b []byte) []byte{
		"flag not a bool":        func(b []byte) []byte { b[flag] = 0xc0; return b },
		"trailing byte":          func(b []byte) []byte { return append(b, 0xc0) },
		"author cut short":       func(b []byte) []byte { b[len(b)-1] = 0xa1; return b },
		"deletion of 4 elements": func(b []byte) []byte { b[len(b)-1-1-28-2-1] = 0x94; return b },
	} {
		if namePartShape(enc[0], mutate(bytes.Clone(body))) {
			t.Errorf("%s: accepted", name)
		}
	}
	if namePartShape(0x96, body) || namePartShape(0x98, body) {
		t.Error("a deletion accepted under a list header of 6 or 8 fields")
	}
}

// TestDigestsLeaveTheCacheOfEncodingsAlone: hashing lists for a digest
// reads them without putting them in the cache, so that a digest over
// lists nobody fetches does not evict the ones clients do; a LoadEncoded
// still fills it.
func TestDigestsLeaveTheCacheOfEncodingsAlone(t *testing.T) {
	s := openTemp(t)
	c := crdt.NewClock(uuid.New())
	var ids []uuid.UUID
	for range 20 {
		l := newList(t, c, "list", "milk")
		mustSave(t, s, l)
		ids = append(ids, l.ID())
	}
	d, _, err := s.Digests(0, 0)
	if err != nil || len(d) != len(ids) {
		t.Fatalf("Digests: %d entries, %v", len(d), err)
	}
	if _, n := s.encoded.usage(); n != 0 {
		t.Fatalf("%d lists in the cache of encodings after a digest, want 0", n)
	}
	if _, err := s.LoadEncoded(ids[0]); err != nil {
		t.Fatal(err)
	}
	if _, n := s.encoded.usage(); n != 1 {
		t.Fatalf("%d lists in the cache after one LoadEncoded, want 1", n)
	}
}
