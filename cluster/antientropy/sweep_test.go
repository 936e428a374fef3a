package antientropy

import (
	"bytes"
	"fmt"
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

// sweepRing is three servers with one virtual node each: three ranges,
// each owned by all three servers (N = 3).
func sweepRing() placement.View {
	return placement.View{Ring: hashring.New([]string{"s1", "s2", "s3"}, hashring.WithVNodes(1)), Epoch: 3}
}

// capReply truncates a DigestReply to its first limit entries, as a server
// whose replies itemise at most limit lists does.
func capReply(t *testing.T, m protocol.Message, limit int) protocol.Message {
	t.Helper()
	if m.Type != protocol.TypeDigestReply {
		return m
	}
	b, err := protocol.DecodeDigestReplyBody(m.Body)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Entries) <= limit {
		return m
	}
	b.Entries, b.Truncated = b.Entries[:limit], true
	r, err := protocol.NewDigestReply(m.RequestID, m.Epoch, b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// sweep runs rounds, one per interval, with servers that itemise at most
// entries lists per DigestReply, until done holds; it returns the rounds
// it took, or fails the test after limit rounds.
func sweep(t *testing.T, c *Coordinator, v placement.View, stores map[string]store, entries, limit int, done func() bool) int {
	t.Helper()
	now := time.Unix(1000, 0)
	c.Tick(now, v)
	for round := 1; round <= limit; round++ {
		now = now.Add(time.Second)
		reqs := c.Tick(now, v)
		for len(reqs) > 0 {
			r := reqs[0]
			reqs = reqs[1:]
			reply := capReply(t, stores[r.Server].answer(t, r.Msg), entries)
			more, ok := c.Reply(now, r.Server, reply, len(reply.Frames()[0])+len(reply.Body))
			if !ok {
				t.Fatalf("reply to %v %d not taken", r.Msg.Type, r.Msg.RequestID)
			}
			reqs = append(reqs, more...)
		}
		if done() {
			return round
		}
	}
	t.Fatalf("not done within %d rounds: %+v", limit, c.Stats())
	return 0
}

// lacking returns how many of ids s does not hold as want does.
func lacking(s, want store, ids []uuid.UUID) int {
	n := 0
	for _, id := range ids {
		if !bytes.Equal(s[id], want[id]) {
			n++
		}
	}
	return n
}

// mostInARange returns how many of ids the range of v holding the most
// of them holds.
func mostInARange(v placement.View, ids []uuid.UUID) int {
	most := 0
	for _, g := range v.Ring.Ranges() {
		n := 0
		for _, id := range ids {
			if g.Contains(hashring.Position(id.String())) {
				n++
			}
		}
		most = max(most, n)
	}
	return most
}

// TestEveryListIsComparedWhateverTheEntryCap: servers itemise at most one
// list per DigestReply, and every bucket of every range holds more lists
// than that. Every list one owner lacks still reaches it, within a number
// of rounds bounded by the number of lists: no list is left behind the
// ones that fit in a reply.
func TestEveryListIsComparedWhateverTheEntryCap(t *testing.T) {
	const lists, entries = 400, 1
	h := &fakeHost{leader: true}
	c := New(Config{Interval: time.Second, Timeout: time.Second, N: 3, MaxEntries: entries,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, h)
	full := store{}
	var ids []uuid.UUID
	for i := range lists {
		id := uuid.New()
		full[id] = []byte(fmt.Sprintf("list %d", i))
		ids = append(ids, id)
	}
	stores := map[string]store{"s1": {}, "s2": {}, "s3": {}}
	for _, id := range ids {
		stores["s1"][id], stores["s2"][id] = full[id], full[id]
	}
	v := sweepRing()
	// Each round over a range compares at least one list after the
	// range's cursor, or finds the rest of the range in agreement; taken
	// round robin, every range is done within one turn per list it holds,
	// and one more.
	limit := len(v.Ring.Ranges()) * (mostInARange(v, ids) + 1)
	rounds := sweep(t, c, v, stores, entries, limit, func() bool { return lacking(stores["s3"], full, ids) == 0 })
	t.Logf("%d lists repaired in %d rounds", lists, rounds)
	if st := c.Stats(); st.ListsRepaired != lists {
		t.Fatalf("stats %+v, want %d lists repaired", st, lists)
	}
}

// TestAListThatIsNeverRepairedDoesNotHoldUpTheOthers: a round repairs at
// most two lists, and the two lists that come first in one range are
// always being written (a repair leaves them alone). The others of that
// range, and of every range, are still repaired.
func TestAListThatIsNeverRepairedDoesNotHoldUpTheOthers(t *testing.T) {
	const lists = 90
	h := &fakeHost{leader: true, writing: map[uuid.UUID]bool{}}
	c := New(Config{Interval: time.Second, Timeout: time.Second, N: 3, MaxRepairs: 2,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, h)
	v := sweepRing()
	full := store{}
	byRange := map[hashring.Range][]uuid.UUID{}
	for i := range lists {
		id := uuid.New()
		full[id] = []byte(fmt.Sprintf("list %d", i))
		for _, g := range v.Ring.Ranges() {
			if g.Contains(hashring.Position(id.String())) {
				byRange[g] = append(byRange[g], id)
			}
		}
	}
	stores := map[string]store{"s1": {}, "s2": {}, "s3": {}}
	for id, enc := range full {
		stores["s1"][id], stores["s2"][id] = enc, enc
	}
	// In the range with the most lists, the first two by ID and the first
	// two by ring position are always being written.
	var busiest []uuid.UUID
	for _, in := range byRange {
		if len(in) > len(busiest) {
			busiest = in
		}
	}
	byID := slices.Clone(busiest)
	slices.SortFunc(byID, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	byPos := slices.Clone(busiest)
	slices.SortFunc(byPos, func(a, b uuid.UUID) int {
		pa, pb := hashring.Position(a.String()), hashring.Position(b.String())
		switch {
		case pa < pb:
			return -1
		case pa > pb:
			return 1
		}
		return 0
	})
	for _, id := range append(byID[:2], byPos[:2]...) {
		h.writing[id] = true
	}
	var others []uuid.UUID
	for id := range full {
		if !h.writing[id] {
			others = append(others, id)
		}
	}
	limit := len(v.Ring.Ranges()) * (mostInARange(v, others) + 1)
	rounds := sweep(t, c, v, stores, protocol.MaxDigestEntries, limit, func() bool { return lacking(stores["s3"], full, others) == 0 })
	t.Logf("%d lists repaired in %d rounds, %d always busy", len(others), rounds, len(h.writing))
	for id := range h.writing {
		if stores["s3"][id] != nil {
			t.Fatalf("list %s, always being written, was repaired", id)
		}
	}
}
