package antientropy

import (
	"bytes"
	"errors"
	"hash/fnv"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/cluster/placement"
	"shoplist/hashring"
	"shoplist/protocol"
)

// fakeHost is the proxy as a test plays it.
type fakeHost struct {
	leader  bool
	down    map[string]bool
	writing map[uuid.UUID]bool
	lastID  uint64
	bad     []string
}

func (h *fakeHost) IsLeader() bool                { return h.leader }
func (h *fakeHost) Usable(server string) bool     { return !h.down[server] }
func (h *fakeHost) Writing(list uuid.UUID) bool   { return h.writing[list] }
func (h *fakeHost) NextRequestID() uint64         { h.lastID++; return h.lastID }
func (h *fakeHost) BadInput(from string, _ error) { h.bad = append(h.bad, from) }

// Merge stands in for a CRDT merge: the longest state wins.
func (h *fakeHost) Merge(_ uuid.UUID, answers []Answer) ([]byte, error) {
	var merged []byte
	for _, a := range answers {
		if len(a.State) > len(merged) {
			merged = a.State
		}
	}
	return merged, nil
}

// store is a storage server's lists, answering as a real server does.
type store map[uuid.UUID][]byte

// answer computes the server's reply to a request of the coordinator.
func (s store) answer(t *testing.T, m protocol.Message) protocol.Message {
	t.Helper()
	switch m.Type {
	case protocol.TypeFetch:
		return protocol.NewFetchReply(m.RequestID, m.ListID, s[m.ListID])
	case protocol.TypeStore:
		if len(m.Body) > len(s[m.ListID]) {
			s[m.ListID] = m.Body
		}
		return protocol.NewStoreReply(m.RequestID, m.ListID)
	}
	d, err := protocol.DecodeDigestBody(m.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := protocol.DigestReplyBody{Buckets: make([]protocol.BucketSum, d.Buckets)}
	for id, enc := range s {
		b, ok := d.Bucket(hashring.Position(id.String()))
		if !ok {
			continue
		}
		h := listHash(enc)
		out.Buckets[b].Count++
		out.Buckets[b].Sum += h
		if slices.Contains(d.Want, b) {
			out.Entries = append(out.Entries, protocol.DigestEntry{List: id, Hash: h})
		}
	}
	slices.SortFunc(out.Entries, func(a, b protocol.DigestEntry) int { return bytes.Compare(a.List[:], b.List[:]) })
	r, err := protocol.NewDigestReply(m.RequestID, m.Epoch, out)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// listHash hashes a list's encoding as servers do for digests.
func listHash(enc []byte) uint64 {
	h := fnv.New64a()
	h.Write(enc)
	return h.Sum64()
}

// testRing is three servers, each an owner of every range (N = 3).
func testRing() placement.View {
	return placement.View{Ring: hashring.New([]string{"s1", "s2", "s3"}, hashring.WithVNodes(4)), Epoch: 7}
}

func newTestCoordinator(h Host, timeout time.Duration) *Coordinator {
	return New(Config{Interval: time.Second, Timeout: timeout, N: 3, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, h)
}

// deliver answers reqs from the stores, and what the answers bring, until
// the coordinator asks for nothing more; mute servers answer nothing. It
// returns the requests received, by server and type.
func deliver(t *testing.T, c *Coordinator, now time.Time, stores map[string]store, mute map[string]bool, reqs []Request) map[string]map[protocol.Type]int {
	t.Helper()
	got := map[string]map[protocol.Type]int{}
	for len(reqs) > 0 {
		r := reqs[0]
		reqs = reqs[1:]
		if got[r.Server] == nil {
			got[r.Server] = map[protocol.Type]int{}
		}
		got[r.Server][r.Msg.Type]++
		if mute[r.Server] {
			continue
		}
		reply := stores[r.Server].answer(t, r.Msg)
		more, ok := c.Reply(now, r.Server, reply, len(reply.Frames()[0])+len(reply.Body))
		if !ok {
			t.Fatalf("reply to %v %d not taken", r.Msg.Type, r.Msg.RequestID)
		}
		reqs = append(reqs, more...)
	}
	return got
}

func TestCoordinatorRepairsAListAnOwnerLacks(t *testing.T) {
	h := &fakeHost{leader: true}
	c := newTestCoordinator(h, time.Second)
	list := uuid.New()
	stores := map[string]store{"s1": {list: []byte("milk")}, "s2": {list: []byte("milk")}, "s3": {}}
	for range 20 { // lists held alike: never fetched
		id := uuid.New()
		for _, s := range stores {
			s[id] = []byte("eggs")
		}
	}
	v := testRing()
	now := time.Unix(1000, 0)
	if reqs := c.Tick(now, v); reqs != nil {
		t.Fatalf("the first tick sent %v", reqs)
	}
	got := map[string]map[protocol.Type]int{}
	for range len(v.Ring.Ranges()) { // a pass over the ring meets the list's range
		now = now.Add(time.Second)
		for id, n := range deliver(t, c, now, stores, nil, c.Tick(now, v)) {
			if got[id] == nil {
				got[id] = map[protocol.Type]int{}
			}
			for typ, k := range n {
				got[id][typ] += k
			}
		}
	}
	if st := c.Stats(); st.ListsRepaired != 1 || st.RangesCompared != uint64(len(v.Ring.Ranges())) || st.BytesSent == 0 {
		t.Fatalf("stats %+v, want one list repaired, every range compared", st)
	}
	if !bytes.Equal(stores["s3"][list], []byte("milk")) {
		t.Fatal("the owner lacking the list did not get it")
	}
	if got["s1"][protocol.TypeStore]+got["s2"][protocol.TypeStore] != 0 || got["s3"][protocol.TypeStore] != 1 {
		t.Fatalf("Stores %d, %d, %d; want s3's alone", got["s1"][protocol.TypeStore], got["s2"][protocol.TypeStore], got["s3"][protocol.TypeStore])
	}
	if got["s1"][protocol.TypeFetch] != 1 {
		t.Fatalf("%d Fetches from s1, want one, of the differing list", got["s1"][protocol.TypeFetch])
	}
}

func TestCoordinatorLeavesAListAPushIsWriting(t *testing.T) {
	list := uuid.New()
	h := &fakeHost{leader: true, writing: map[uuid.UUID]bool{list: true}}
	c := newTestCoordinator(h, time.Second)
	stores := map[string]store{"s1": {list: []byte("milk")}, "s2": {}, "s3": {}}
	v := testRing()
	now := time.Unix(1000, 0)
	c.Tick(now, v)
	for range len(v.Ring.Ranges()) {
		now = now.Add(time.Second)
		if got := deliver(t, c, now, stores, nil, c.Tick(now, v)); got["s2"][protocol.TypeStore] != 0 {
			t.Fatal("a list a push is writing was repaired")
		}
	}
	if st := c.Stats(); st.ListsRepaired != 0 || st.RangesInSync != uint64(len(v.Ring.Ranges())-1) {
		t.Fatalf("stats %+v", st)
	}
}

func TestCoordinatorEndsARoundItCannotSend(t *testing.T) {
	h := &fakeHost{leader: true}
	c := newTestCoordinator(h, time.Second)
	v := testRing()
	now := time.Unix(1000, 0)
	c.Tick(now, v)
	now = now.Add(time.Second)
	reqs := c.Tick(now, v)
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want a Digest to each of 3 owners", len(reqs))
	}
	for i, r := range reqs {
		if more := c.NotSent(now, r.Msg.RequestID, errors.New("unroutable")); len(more) != 0 {
			t.Fatalf("a failed send brought %v", more)
		}
		if ended := c.Stats().Rounds == 1; ended != (i == len(reqs)-1) {
			t.Fatalf("after %d failed sends of %d, round ended: %v", i+1, len(reqs), ended)
		}
	}
	st := c.Stats()
	if st.RangesCompared != 0 || st.BytesSent != 0 || st.LastRound != 0 {
		t.Fatalf("stats %+v, want nothing compared or sent, the round over at once", st)
	}
	if d, ok := c.Deadline(); !ok || !d.Equal(now.Add(time.Second)) {
		t.Fatalf("deadline %v %v, want the next round's start", d, ok)
	}
}

func TestCoordinatorFailsCallsAtTheDeadline(t *testing.T) {
	const timeout = 100 * time.Millisecond
	h := &fakeHost{leader: true}
	c := newTestCoordinator(h, timeout)
	stores := map[string]store{"s1": {}, "s2": {}, "s3": {}}
	v := testRing()
	start := time.Unix(1000, 0)
	c.Tick(start, v)
	start = start.Add(time.Second)
	deliver(t, c, start, stores, map[string]bool{"s3": true}, c.Tick(start, v))
	if d, ok := c.Deadline(); !ok || !d.Equal(start.Add(timeout)) {
		t.Fatalf("deadline %v %v, want the phase's", d, ok)
	}
	if c.Tick(start.Add(timeout-time.Millisecond), v); c.Stats().Rounds != 0 {
		t.Fatal("the round ended before its deadline")
	}
	c.Tick(start.Add(timeout), v)
	if st := c.Stats(); st.Rounds != 1 || st.RangesCompared != 0 || st.LastRound != timeout {
		t.Fatalf("stats %+v, want one round, uncompared, lasting %v", st, timeout)
	}
	// A late reply is not the coordinator's, but a late DigestReply is
	// taken all the same: nothing else expects it.
	late, _ := protocol.NewDigestReply(1, 7, protocol.DigestReplyBody{Buckets: make([]protocol.BucketSum, Buckets)})
	if _, ok := c.Reply(start.Add(timeout), "s1", late, 0); !ok {
		t.Fatal("a late DigestReply was not taken")
	}
	if _, ok := c.Reply(start.Add(timeout), "s1", protocol.NewStoreReply(2, uuid.New()), 0); ok {
		t.Fatal("a StoreReply that is no call's was taken")
	}
}

func TestCoordinatorEndsTheRoundWhenTheRingChanges(t *testing.T) {
	h := &fakeHost{leader: true}
	c := newTestCoordinator(h, time.Hour)
	v := testRing()
	now := time.Unix(1000, 0)
	c.Tick(now, v)
	now = now.Add(time.Second)
	c.Tick(now, v)
	v.Epoch++
	if reqs := c.Tick(now, v); len(reqs) != 0 || c.Stats().Rounds != 1 {
		t.Fatalf("ring changed: %d requests, %d rounds; want the round ended", len(reqs), c.Stats().Rounds)
	}
}

func TestCoordinatorRunsOnlyOnTheLeaderWithUsableOwners(t *testing.T) {
	h := &fakeHost{down: map[string]bool{"s2": true}}
	c := newTestCoordinator(h, time.Second)
	v := testRing()
	now := time.Unix(1000, 0)
	c.Tick(now, v)
	now = now.Add(time.Second)
	if reqs := c.Tick(now, v); len(reqs) != 0 || c.Stats() != (Stats{}) {
		t.Fatalf("a follower sent %v, counted %+v", reqs, c.Stats())
	}
	h.leader = true
	now = now.Add(time.Second)
	if reqs := c.Tick(now, v); len(reqs) != 0 || c.Stats().RangesSkipped != 1 {
		t.Fatalf("an owner down: %d requests, stats %+v; want the range skipped", len(reqs), c.Stats())
	}
	off := New(Config{Interval: -1}, h)
	if reqs := off.Tick(now, v); reqs != nil {
		t.Fatal("disabled, it sent requests")
	}
	if _, ok := off.Deadline(); ok {
		t.Fatal("disabled, it has a deadline")
	}
}
