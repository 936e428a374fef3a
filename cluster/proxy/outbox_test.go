package proxy

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/protocol"
)

// fetchesIn returns the Fetches a fake server received, alone or in
// Batches, until it has n; it counts the wire messages they came in.
func fetchesIn(t *testing.T, s *fakeServer, n int) (fetches []protocol.Message, messages int) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for len(fetches) < n {
		m := s.recvBy(deadline)
		msgs := []protocol.Message{m}
		if m.Type == protocol.TypeBatch {
			var err error
			if msgs, err = protocol.Unbatch(m.Body); err != nil {
				t.Fatalf("%s received a Batch that does not unbatch: %v", s.id, err)
			}
		} else if notification(m) {
			continue
		}
		messages++
		for _, x := range msgs {
			if x.Type != protocol.TypeFetch {
				t.Fatalf("%s received %v, want Fetches only", s.id, x.Type)
			}
			fetches = append(fetches, x)
		}
	}
	return fetches, messages
}

// TestBatchesCarryRequestsAndAnswersBothWays: with Batch on, a burst of
// pulls reaches every owner as Fetches (in as many messages as the proxy's
// turns made), and answers that come back in one Batch each answer their
// own pull.
func TestBatchesCarryRequestsAndAnswersBothWays(t *testing.T) {
	p := startProxy(t, func(c *Config) { c.Batch = true })
	fakes := joinServers(t, p, 3) // N = 3: every server owns every list
	c := newClient(t, p)
	const pulls = 20
	want := map[uint64]uuid.UUID{}
	for i := range pulls {
		id, list := uint64(100+i), uuid.New()
		want[id] = list
		c.send(protocol.NewPull(id, list))
	}
	for _, s := range fakes {
		fetches, messages := fetchesIn(t, s, pulls)
		t.Logf("%s: %d Fetches in %d messages", s.id, len(fetches), messages)
		var answers protocol.Batcher
		for _, f := range fetches {
			answers.Add(protocol.NewFetchReply(f.RequestID, f.ListID, nil))
		}
		m, _ := answers.Take(0)
		if m.Type != protocol.TypeBatch {
			t.Fatalf("%d answers made a %v, want a Batch", pulls, m.Type)
		}
		s.send(m)
	}
	for range pulls {
		r := c.recvType(protocol.TypePullReply)
		list, ok := want[r.RequestID]
		if !ok || r.ListID != list || r.Body != nil {
			t.Fatalf("PullReply %d for list %v with %d bytes; want the empty answer to a pull sent", r.RequestID, r.ListID, len(r.Body))
		}
		delete(want, r.RequestID)
	}
}

// TestAMalformedBatchFromAServerIsDropped: a Batch that does not unbatch
// counts for nothing, not even the answer it carries; the pull is answered
// by the other owners.
func TestAMalformedBatchFromAServerIsDropped(t *testing.T) {
	p := startProxy(t, nil)
	fakes := joinServers(t, p, 3)
	c := newClient(t, p)
	l, enc := sampleList(t, "milk")
	c.send(protocol.NewPull(7, l.ID()))
	first := true
	for _, s := range owners(t, p, fakes, l.ID()) {
		f := s.recvType(protocol.TypeFetch)
		if !first {
			s.send(protocol.NewFetchReply(f.RequestID, l.ID(), nil))
			continue
		}
		// A Batch of one message is malformed. Were its answer taken,
		// the pull would return the list.
		one := protocol.NewFetchReply(f.RequestID, l.ID(), enc).Frames()
		body := append(binary.AppendUvarint(nil, uint64(len(one[0]))), one[0]...)
		body = append(binary.AppendUvarint(body, uint64(len(one[1]))), one[1]...)
		batch := protocol.Message{Header: protocol.Header{Version: protocol.Version, Type: protocol.TypeBatch}, Body: body}
		s.send(batch)
		first = false
	}
	if r := c.recvType(protocol.TypePullReply); r.RequestID != 7 || r.Body != nil {
		t.Fatalf("PullReply %d with %d bytes, want the empty answer of the two other owners", r.RequestID, len(r.Body))
	}
}
