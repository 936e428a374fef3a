package antientropy

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/uuid"

	"shoplist/hashring"
	"shoplist/protocol"
)

// ids returns the IDs of lists, in their order.
func ids(lists []listAt) []uuid.UUID {
	var out []uuid.UUID
	for _, l := range lists {
		out = append(out, l.id)
	}
	return out
}

func TestDifferingListsIgnoresWhatTruncationHides(t *testing.T) {
	id := make([]uuid.UUID, 4)
	for i := range id {
		id[i] = uuid.UUID{byte(i + 1), 0, 0, 0, 0, 0, 0x40, 0, 0x80}
	}
	e := func(i int, h uint64) protocol.DigestEntry { return protocol.DigestEntry{List: id[i], Hash: h} }
	owners := []string{"a", "b"}
	digests := map[string]protocol.DigestReplyBody{
		// a's reply stops after id[1]: id[2] and id[3] may be there too.
		"a": {Entries: []protocol.DigestEntry{e(0, 1), e(1, 1)}, Truncated: true},
		"b": {Entries: []protocol.DigestEntry{e(0, 1), e(1, 2), e(3, 1)}},
	}
	got, truncated := differingLists(owners, digests, 0, 0)
	if !truncated || !slices.Equal(ids(got), []uuid.UUID{id[1]}) {
		t.Fatalf("differing %v (truncated %v), want only %v (id[3] lies past a's truncation)", ids(got), truncated, id[1])
	}
	digests["a"] = protocol.DigestReplyBody{Entries: []protocol.DigestEntry{e(0, 1), e(2, 1)}}
	got, truncated = differingLists(owners, digests, 0, 0)
	if truncated || len(got) != 3 {
		t.Fatalf("differing %v (truncated %v), want id[1], id[2], id[3]", ids(got), truncated)
	}
	for i := 1; i < len(got); i++ {
		if got[i-1].off > got[i].off {
			t.Fatalf("differing lists %v not in ring order", got)
		}
	}
	// From the offset of the second of them on, the first is left out.
	later, _ := differingLists(owners, digests, 0, got[1].off)
	if !slices.Equal(ids(later), ids(got[1:])) {
		t.Fatalf("from offset %d: %v, want %v", got[1].off, ids(later), ids(got[1:]))
	}
}

// TestBucketArcsAreWhatDigestBucketSays: the arc span.bucket gives for a
// bucket holds exactly the positions protocol.DigestBucket puts in it,
// for ranges of any width, the whole ring and ranges narrower than the
// buckets included.
func TestBucketArcsAreWhatDigestBucketSays(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, width := range []uint64{0, 1, 5, Buckets - 1, Buckets, Buckets + 1, 1000, 1 << 40, 1<<64 - 3, rng.Uint64()} {
		start := rng.Uint64()
		s := span{lo: 0, hi: width - 1}
		body := s.body(start, nil)
		// Every bucket's arc is contiguous with the next, and they cover
		// the range.
		next := uint64(0)
		for b := range Buckets {
			arc, ok := s.bucket(b)
			if !ok {
				continue
			}
			if arc.lo != next {
				t.Fatalf("width %d: bucket %d starts at %d, want %d", width, b, arc.lo, next)
			}
			for _, off := range []uint64{arc.lo, arc.hi, arc.lo + (arc.hi-arc.lo)/2} {
				if got, in := body.Bucket(start + off + 1); !in || got != b {
					t.Fatalf("width %d: offset %d of bucket %d's arc [%d, %d] is in bucket %d (%v)", width, off, b, arc.lo, arc.hi, got, in)
				}
			}
			next = arc.hi + 1
		}
		if next != width {
			t.Fatalf("width %d: the buckets end at %d", width, next)
		}
		for range 1000 {
			off := rng.Uint64()
			if width != 0 {
				off %= width
			}
			b, in := body.Bucket(start + off + 1)
			arc, ok := s.bucket(b)
			if !in || !ok || off < arc.lo || off > arc.hi {
				t.Fatalf("width %d: offset %d is in bucket %d (%v), whose arc is [%d, %d] (%v)", width, off, b, in, arc.lo, arc.hi, ok)
			}
		}
	}
}

func TestPickBucketsFitsTheLimitFromTheCursorOn(t *testing.T) {
	owners := []string{"a", "b"}
	sums := func(counts map[int]uint64) protocol.DigestReplyBody {
		b := protocol.DigestReplyBody{Buckets: make([]protocol.BucketSum, Buckets)}
		for i, c := range counts {
			b.Buckets[i].Count = c
		}
		return b
	}
	digests := map[string]protocol.DigestReplyBody{"a": sums(map[int]uint64{0: 6, 2: 3, 3: 50, 5: 1}), "b": sums(map[int]uint64{1: 1, 2: 4, 5: 2})}
	s := span{lo: 0, hi: 1<<20 - 1}
	arc := func(b int) span { a, _ := s.bucket(b); return a }
	differ := []int{0, 1, 2, 3, 5}
	if p := pickBuckets(s, differ, owners, digests, 0, 11); !slices.Equal(p.want, []int{0, 1, 2}) || p.through != arc(2).hi || p.descend != -1 {
		t.Fatalf("from the start, limit 11: %+v, want buckets 0 to 2 (6 + 1 + 4 entries)", p)
	}
	if p := pickBuckets(s, differ, owners, digests, arc(1).hi+1, 11); p.descend != -1 || !slices.Equal(p.want, []int{2}) {
		t.Fatalf("from bucket 2: %+v, want bucket 2 alone (bucket 3 does not fit with it)", p)
	}
	if p := pickBuckets(s, differ, owners, digests, arc(3).lo+7, 11); p.descend != 3 || len(p.want) != 0 {
		t.Fatalf("from inside bucket 3: %+v, want bucket 3 digested again, cut finer", p)
	}
	if p := pickBuckets(s, differ, owners, digests, arc(5).hi+1, 11); p.descend != -1 || len(p.want) != 0 {
		t.Fatalf("past every differing bucket: %+v, want nothing", p)
	}
	// A bucket one position wide is itemised whatever its count.
	narrow := span{lo: 100, hi: 100 + Buckets - 1}
	if p := pickBuckets(narrow, []int{3}, owners, digests, 0, 11); !slices.Equal(p.want, []int{3}) {
		t.Fatalf("a bucket of one position: %+v, want it itemised", p)
	}
	if got := differingBuckets(owners, digests); !slices.Equal(got, []int{0, 1, 2, 3, 5}) {
		t.Fatalf("differing buckets %v, want 0, 1, 2, 3 and 5", got)
	}
}

// TestListOffsetsAreInTheirRange: a list's offset in its range is below
// the range's width, so cursors never leave their range.
func TestListOffsetsAreInTheirRange(t *testing.T) {
	ring := hashring.New([]string{"s1", "s2", "s3"}, hashring.WithVNodes(4))
	for range 200 {
		id := uuid.New()
		pos := hashring.Position(id.String())
		for _, g := range ring.Ranges() {
			if g.Contains(pos) && pos-g.Start-1 >= g.End-g.Start {
				t.Fatalf("list at %d in range %v has offset %d", pos, g, pos-g.Start-1)
			}
		}
	}
}
