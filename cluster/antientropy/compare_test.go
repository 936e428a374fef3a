package antientropy

import (
	"testing"

	"github.com/google/uuid"

	"shoplist/protocol"
)

func TestDifferingListsIgnoresWhatTruncationHides(t *testing.T) {
	ids := make([]uuid.UUID, 4)
	for i := range ids {
		ids[i] = uuid.UUID{byte(i + 1), 0, 0, 0, 0, 0, 0x40, 0, 0x80}
	}
	e := func(i int, h uint64) protocol.DigestEntry { return protocol.DigestEntry{List: ids[i], Hash: h} }
	owners := []string{"a", "b"}
	digests := map[string]protocol.DigestReplyBody{
		// a's reply stops after ids[1]: ids[2] and ids[3] may be there too.
		"a": {Entries: []protocol.DigestEntry{e(0, 1), e(1, 1)}, Truncated: true},
		"b": {Entries: []protocol.DigestEntry{e(0, 1), e(1, 2), e(3, 1)}},
	}
	got := differingLists(owners, digests, 10)
	if len(got) != 1 || got[0] != ids[1] {
		t.Fatalf("differing %v, want only %v (ids[3] lies past a's truncation)", got, ids[1])
	}
	digests["a"] = protocol.DigestReplyBody{Entries: []protocol.DigestEntry{e(0, 1), e(2, 1)}}
	if got := differingLists(owners, digests, 10); len(got) != 3 {
		t.Fatalf("differing %v, want ids[1], ids[2], ids[3]", got)
	}
	if got := differingLists(owners, digests, 2); len(got) != 2 || got[0] != ids[1] || got[1] != ids[2] {
		t.Fatalf("limited to 2: %v, want the first two by ID", got)
	}
}

func TestWantBucketsFitsOneReply(t *testing.T) {
	owners := []string{"a", "b"}
	sums := func(counts ...uint64) protocol.DigestReplyBody {
		b := protocol.DigestReplyBody{Buckets: make([]protocol.BucketSum, Buckets)}
		for i, c := range counts {
			b.Buckets[i].Count = c
		}
		return b
	}
	digests := map[string]protocol.DigestReplyBody{"a": sums(600, 0, 300, 5000), "b": sums(0, 1, 400, 0)}
	if got := wantBuckets([]int{0, 1, 2, 3}, owners, digests); len(got) != 3 {
		t.Fatalf("want %v, want buckets 0 to 2 (600 + 1 + 400 entries)", got)
	}
	if got := wantBuckets([]int{3, 0}, owners, digests); len(got) != 1 || got[0] != 3 {
		t.Fatalf("want %v, want the one oversized bucket alone", got)
	}
	if got := differingBuckets(owners, digests); len(got) != 4 {
		t.Fatalf("differing buckets %v, want 0 to 3", got)
	}
}
