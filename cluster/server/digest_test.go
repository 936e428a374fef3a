package server

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/crdt"
	"shoplist/hashring"
	"shoplist/protocol"
)

// fetched is a list as a Fetch returns it: where it sits and the hash of
// the bytes.
type fetched struct {
	id   uuid.UUID
	pos  uint64
	hash uint64
}

// fetchAll fetches each list through the proxy link: the ground truth a
// digest must agree with.
func (p *fakeProxy) fetchAll(ids []uuid.UUID) []fetched {
	p.t.Helper()
	var out []fetched
	for _, id := range ids {
		r := p.call(protocol.NewFetch(p.id(), 0, id))
		if r.Type != protocol.TypeFetchReply || len(r.Body) == 0 {
			p.t.Fatalf("fetch of %s: %v with %d bytes", id, r.Type, len(r.Body))
		}
		out = append(out, fetched{id: id, pos: hashring.Position(id.String()), hash: crdt.StateHash(r.Body)})
	}
	return out
}

// bruteDigest computes the DigestReply body a server holding lists must
// send for b, from scratch.
func bruteDigest(lists []fetched, b protocol.DigestBody) protocol.DigestReplyBody {
	out := protocol.DigestReplyBody{Buckets: make([]protocol.BucketSum, b.Buckets)}
	for _, l := range lists {
		i, ok := protocol.DigestBucket(b.Start, b.End, b.Buckets, l.pos)
		if !ok {
			continue
		}
		out.Buckets[i].Count++
		out.Buckets[i].Sum += l.hash
		if slices.Contains(b.Want, i) {
			out.Entries = append(out.Entries, protocol.DigestEntry{List: l.id, Hash: l.hash})
		}
	}
	slices.SortFunc(out.Entries, func(x, y protocol.DigestEntry) int { return bytes.Compare(x.List[:], y.List[:]) })
	if len(out.Entries) > protocol.MaxDigestEntries {
		out.Entries, out.Truncated = out.Entries[:protocol.MaxDigestEntries], true
	}
	return out
}

// digest sends a Digest at epoch and returns the decoded reply.
func (p *fakeProxy) digest(epoch uint64, b protocol.DigestBody) (protocol.Message, protocol.DigestReplyBody) {
	p.t.Helper()
	m, err := protocol.NewDigest(p.id(), epoch, b)
	must(p.t, err)
	r := p.call(m)
	if r.Type != protocol.TypeDigestReply {
		p.t.Fatalf("digest %+v: %v (%v)", b, r.Type, r.Err())
	}
	body, err := protocol.DecodeDigestReplyBody(r.Body)
	must(p.t, err)
	return r, body
}

// sameDigest fails the test unless got equals want.
func sameDigest(t *testing.T, what string, got, want protocol.DigestReplyBody) {
	t.Helper()
	if !slices.Equal(got.Buckets, want.Buckets) || !slices.Equal(got.Entries, want.Entries) || got.Truncated != want.Truncated {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// TestDigestMatchesTheFetchedLists: bucket counts and sums, and the
// entries of wanted buckets, are what a brute-force computation over the
// lists' Fetch replies gives, for whole-ring, partial and wrapping ranges;
// a write shows in the next digest.
func TestDigestMatchesTheFetchedLists(t *testing.T) {
	_, p := startWelcomed(t, nil)
	var lists []*crdt.List
	var ids []uuid.UUID
	for i := range 40 {
		l := newList(t, time.Now, "milk", fmt.Sprint("item ", i))
		lists, ids = append(lists, l), append(ids, l.ID())
	}
	p.storeAll(lists[1:])
	p.hintedStore(lists[0], "s9") // kept for another server: stored all the same
	truth := p.fetchAll(ids)
	p0, p1 := truth[0].pos, truth[1].pos
	bodies := []protocol.DigestBody{
		{Start: 0, End: 0, Buckets: 1, Want: []int{0}},
		{Start: 7, End: 7, Buckets: 64, Want: []int{0, 5, 63}},
		{Start: 0, End: 0, Buckets: 256},
		{Start: p0 - 1, End: p0, Buckets: 3, Want: []int{2}}, // one list, at the range's end
		{Start: p0, End: p0 - 1, Buckets: 16, Want: []int{0, 15}},
		{Start: max(p0, p1), End: min(p0, p1), Buckets: 8, Want: []int{0, 1, 2, 3, 4, 5, 6, 7}}, // wraps
		{Start: min(p0, p1), End: max(p0, p1), Buckets: 5, Want: []int{4}},
	}
	for _, b := range bodies {
		_, got := p.digest(0, b)
		sameDigest(t, fmt.Sprintf("digest %+v", b), got, bruteDigest(truth, b))
	}
	more := crdt.Empty(ids[3])
	must(t, more.Add(crdt.NewClock(uuid.New()), "tea", 1))
	p.storeAll([]*crdt.List{more})
	after := p.fetchAll(ids)
	if after[3].hash == truth[3].hash {
		t.Fatal("a write did not change the fetched bytes")
	}
	b := protocol.DigestBody{Start: 0, End: 0, Buckets: 4, Want: []int{0, 1, 2, 3}}
	_, got := p.digest(0, b)
	sameDigest(t, "digest after a write", got, bruteDigest(after, b))
}

// TestDigestTruncatesEntries: past MaxDigestEntries, a reply lists the
// first ones by list ID and says it is truncated; the bucket sums still
// cover every list.
func TestDigestTruncatesEntries(t *testing.T) {
	s, p := startWelcomed(t, nil)
	n := protocol.MaxDigestEntries + 76
	var (
		wg sync.WaitGroup
		mu sync.Mutex // guards ids
	)
	var ids []uuid.UUID
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				l := newList(t, time.Now, "milk")
				if _, err := s.Store().SaveMerge(l); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				ids = append(ids, l.ID())
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	truth := p.fetchAll(ids)
	b := protocol.DigestBody{Start: 0, End: 0, Buckets: 2, Want: []int{0, 1}}
	_, got := p.digest(0, b)
	if !got.Truncated || len(got.Entries) != protocol.MaxDigestEntries || got.Buckets[0].Count+got.Buckets[1].Count != uint64(n) {
		t.Fatalf("digest of %d lists: %d entries, truncated %v, counts %+v", n, len(got.Entries), got.Truncated, got.Buckets)
	}
	sameDigest(t, "truncated digest", got, bruteDigest(truth, b))
	if s.Stats().DigestsAnswered != 1 {
		t.Fatalf("DigestsAnswered = %d, want 1", s.Stats().DigestsAnswered)
	}
}

// TestDigestEpochRulesAndBadBodies: a Digest routed under an epoch older
// than the server's is refused with StaleEpoch, as a Store is; replies
// carry the server's epoch; a body that does not decode is BadRequest.
func TestDigestEpochRulesAndBadBodies(t *testing.T) {
	_, p := startWelcomed(t, nil)
	ann, err := protocol.NewEpochAnnounce(p.id(), protocol.EpochBody{Epoch: 5, N: 1, VNodes: 3, Members: sortedMembers("s2")})
	must(t, err)
	if r := p.call(ann); r.Type != protocol.TypeOK {
		t.Fatalf("epoch announce: %v", r.Type)
	}
	m, err := protocol.NewDigest(p.id(), 4, protocol.DigestBody{Buckets: 1})
	must(t, err)
	wantError(t, p.call(m), protocol.CodeStaleEpoch)
	if r, got := p.digest(5, protocol.DigestBody{Buckets: 2}); r.Epoch != 5 || len(got.Buckets) != 2 || got.Buckets[0].Count != 0 {
		t.Fatalf("digest at the current epoch: epoch %d, %+v", r.Epoch, got)
	}
	bad := protocol.Header{Version: protocol.Version, Type: protocol.TypeDigest, RequestID: p.id()}
	p.sendFrames(p.server, bad.Encode(), []byte{0x94, 0x00, 0x00, 0x00, 0x90}) // 0 buckets
	_, r, _ := p.recv()
	if r.RequestID != bad.RequestID {
		t.Fatalf("answer to a bad digest has request ID %d, want %d", r.RequestID, bad.RequestID)
	}
	wantError(t, r, protocol.CodeBadRequest)
}
