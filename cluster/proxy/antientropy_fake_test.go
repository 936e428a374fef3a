package proxy

import (
	"bytes"
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/google/uuid"
	zmq "github.com/pebbe/zmq4"

	"shoplist/cluster/antientropy"
	"shoplist/cluster/membership"
	"shoplist/crdt"
	"shoplist/hashring"
	"shoplist/protocol"
)

// replica is a storage server played by an anti-entropy test: it holds
// lists and answers Digest, Fetch and Store as a real server does (a Store
// merges), counting what it was sent and what it answered. Its socket
// belongs to the goroutine that pumps it.
type replica struct {
	tb    testing.TB
	id    string
	sock  *zmq.Socket
	lists map[uuid.UUID][]byte
	index map[uuid.UUID]indexed // digest cache, as a real server's index

	mute   bool // answers no anti-entropy request (heartbeats still go out)
	forget bool // acknowledges Stores without keeping them

	got      map[protocol.Type]int    // anti-entropy requests received, by type
	lastID   map[protocol.Type]uint64 // request ID of the last one, by type
	fetched  map[uuid.UUID]int        // Fetches received, by list
	stored   map[uuid.UUID]int        // Stores received, by list
	wants    int                      // Digests received with Want
	gotBytes int                      // bytes of the anti-entropy requests received
	sentByte int                      // bytes of the replies sent
}

// leaderSwitch is a Registry whose IsLeader the test sets.
type leaderSwitch struct {
	*membership.Registry
	leader atomic.Bool
}

// IsLeader reports what the test set.
func (s *leaderSwitch) IsLeader() bool { return s.leader.Load() }

// startAEProxy starts a proxy whose anti-entropy runs every interval once
// the returned switch says it leads (it does not yet).
func startAEProxy(tb testing.TB, interval, timeout time.Duration) (*Proxy, *leaderSwitch) {
	tb.Helper()
	sw := &leaderSwitch{Registry: newRegistry(tb)}
	p, err := Start(context.Background(), Config{
		ClientEndpoint:      "tcp://127.0.0.1:*",
		PubEndpoint:         "tcp://127.0.0.1:*",
		BackendEndpoint:     "tcp://127.0.0.1:*",
		Heartbeat:           2 * time.Second,
		Timeout:             timeout,
		AntiEntropyInterval: interval,
		Membership:          sw,
		CurveSecretKey:      newKeyPair(tb).Secret,
		Logger:              testLogger(),
	})
	if err != nil {
		tb.Fatalf("Start: %v", err)
	}
	tb.Cleanup(func() {
		if err := p.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return p, sw
}

// joinReplicas connects replicas s1..sn and waits for each welcome.
func joinReplicas(tb testing.TB, p *Proxy, n int) []*replica {
	tb.Helper()
	var out []*replica
	for i := 1; i <= n; i++ {
		r := &replica{tb: tb, id: "s" + string(rune('0'+i)), lists: map[uuid.UUID][]byte{}}
		r.reset()
		s, err := zmq.NewSocket(zmq.DEALER)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		s.SetLinger(0)
		if err := s.SetIdentity(r.id); err != nil {
			tb.Fatal(err)
		}
		if err := curveClient(s, p.Endpoints().BackendKey, admit(tb, p, r.id)); err != nil {
			tb.Fatal(err)
		}
		if err := s.Connect(p.Endpoints().Backend); err != nil {
			tb.Fatal(err)
		}
		r.sock = s
		hello, err := protocol.NewServerHello(1, 0, r.id)
		if err != nil {
			tb.Fatal(err)
		}
		r.send(hello)
		welcomed := false
		pump(tb, []*replica{r}, r.id+" welcomed", func() bool { return welcomed }, func(m protocol.Message) {
			welcomed = welcomed || m.Type == protocol.TypeServerWelcome
		})
		out = append(out, r)
	}
	return out
}

// reset forgets what the replica counted.
func (r *replica) reset() {
	r.got, r.fetched, r.stored = map[protocol.Type]int{}, map[uuid.UUID]int{}, map[uuid.UUID]int{}
	r.lastID = map[protocol.Type]uint64{}
	r.wants, r.gotBytes, r.sentByte = 0, 0, 0
}

func (r *replica) send(m protocol.Message) int {
	r.tb.Helper()
	frames := m.Frames()
	if _, err := r.sock.SendMessage(frames); err != nil {
		r.tb.Fatalf("%s: send: %v", r.id, err)
	}
	return len(frames[0]) + len(frames[1])
}

// handle answers one message from the proxy; other is called for the
// messages that are not anti-entropy requests.
func (r *replica) handle(frames [][]byte, other func(protocol.Message)) {
	r.tb.Helper()
	m, err := protocol.Parse(frames)
	if err != nil {
		r.tb.Fatalf("%s: parse %x: %v", r.id, frames, err)
	}
	switch m.Type {
	case protocol.TypeDigest, protocol.TypeFetch, protocol.TypeStore:
	default:
		if other != nil {
			other(m)
		}
		return
	}
	r.got[m.Type]++
	r.lastID[m.Type] = m.RequestID
	r.gotBytes += len(frames[0]) + len(frames[1])
	if r.mute {
		return
	}
	r.sentByte += r.send(r.answer(m))
}

// answer computes the reply to an anti-entropy request.
func (r *replica) answer(m protocol.Message) protocol.Message {
	switch m.Type {
	case protocol.TypeFetch:
		r.fetched[m.ListID]++
		return protocol.NewFetchReply(m.RequestID, m.ListID, r.lists[m.ListID])
	case protocol.TypeStore:
		r.stored[m.ListID]++
		if !r.forget {
			r.lists[m.ListID] = mergeInto(r.tb, r.lists[m.ListID], m.Body)
		}
		return protocol.NewStoreReply(m.RequestID, m.ListID)
	}
	d, err := protocol.DecodeDigestBody(m.Body)
	if err != nil {
		r.tb.Fatalf("%s: digest body: %v", r.id, err)
	}
	if len(d.Want) > 0 {
		r.wants++
	}
	reply, err := protocol.NewDigestReply(m.RequestID, m.Epoch, r.digest(d))
	if err != nil {
		r.tb.Fatalf("%s: digest reply: %v", r.id, err)
	}
	return reply
}

// indexed is a list's ring position and the hash of the encoding it was
// computed from (recognised by its backing array and length: tests replace
// states, never modify them).
type indexed struct {
	pos, hash uint64
	enc       *byte
	n         int
}

// digest computes a Digest's answer over every list the replica holds.
func (r *replica) digest(d protocol.DigestBody) protocol.DigestReplyBody {
	if r.index == nil {
		r.index = map[uuid.UUID]indexed{}
	}
	out := protocol.DigestReplyBody{Buckets: make([]protocol.BucketSum, d.Buckets)}
	for id, enc := range r.lists {
		x, ok := r.index[id]
		if !ok {
			x.pos = hashring.Position(id.String())
		}
		if !ok || x.enc != unsafe.SliceData(enc) || x.n != len(enc) {
			x.hash, x.enc, x.n = crdt.StateHash(enc), unsafe.SliceData(enc), len(enc)
			r.index[id] = x
		}
		b, ok := d.Bucket(x.pos)
		if !ok {
			continue
		}
		out.Buckets[b].Count++
		out.Buckets[b].Sum += x.hash
		if _, want := slices.BinarySearch(d.Want, b); want {
			out.Entries = append(out.Entries, protocol.DigestEntry{List: id, Hash: x.hash})
		}
	}
	slices.SortFunc(out.Entries, func(a, b protocol.DigestEntry) int { return bytes.Compare(a.List[:], b.List[:]) })
	if len(out.Entries) > protocol.MaxDigestEntries {
		out.Entries, out.Truncated = out.Entries[:protocol.MaxDigestEntries], true
	}
	return out
}

// mergeInto returns the encoding of the merge of two states (old may be nil).
func mergeInto(tb testing.TB, old, in []byte) []byte {
	tb.Helper()
	l, err := crdt.Decode(in)
	if err != nil {
		tb.Fatalf("stored state: %v", err)
	}
	if old != nil {
		o, err := crdt.Decode(old)
		if err == nil {
			err = l.Merge(o)
		}
		if err != nil {
			tb.Fatalf("merge: %v", err)
		}
	}
	return l.Encode()
}

// pump serves the replicas until cond holds, failing the test after
// testTimeout; it heartbeats them meanwhile so the proxy keeps them up.
// other sees the messages that are not anti-entropy requests.
func pump(tb testing.TB, reps []*replica, what string, cond func() bool, other func(protocol.Message)) {
	tb.Helper()
	deadline := time.Now().Add(testTimeout)
	serve(tb, reps, other, func() bool {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		return false
	})
}

// serve polls the replicas' sockets and answers what arrives until done
// returns true; done is asked after every poll.
func serve(tb testing.TB, reps []*replica, other func(protocol.Message), done func() bool) {
	tb.Helper()
	poller := zmq.NewPoller()
	for _, r := range reps {
		poller.Add(r.sock, zmq.POLLIN)
	}
	beat := time.Now()
	for !done() {
		if time.Since(beat) > 250*time.Millisecond {
			for _, r := range reps {
				r.send(protocol.NewHeartbeat(0))
			}
			beat = time.Now()
		}
		polled, err := poller.Poll(10 * time.Millisecond)
		if err != nil {
			tb.Fatalf("poll: %v", err)
		}
		for _, pl := range polled {
			r := reps[slices.IndexFunc(reps, func(r *replica) bool { return r.sock == pl.Socket })]
			for {
				frames, err := r.sock.RecvMessageBytes(zmq.DONTWAIT)
				if err != nil {
					break
				}
				r.handle(frames, other)
			}
		}
	}
}

// aeStatsOf reads the proxy's anti-entropy counters.
func aeStatsOf(tb testing.TB, p *Proxy) antientropy.Stats {
	tb.Helper()
	var s antientropy.Stats
	if err := p.do(context.Background(), func(l *loop) { s = l.ae.Stats() }); err != nil {
		tb.Fatal(err)
	}
	return s
}

// aeRanges is how many primary ranges the proxy's ring has.
func aeRanges(p *Proxy) int { return len(p.view.Load().Ring.Ranges()) }

// newStates returns n lists with one item each, by ID.
func newStates(tb testing.TB, n int) map[uuid.UUID][]byte {
	tb.Helper()
	out := make(map[uuid.UUID][]byte, n)
	c := crdt.NewClock(uuid.New())
	for range n {
		l, err := crdt.New(c, "groceries")
		if err == nil {
			err = l.Add(c, "milk", 1)
		}
		if err != nil {
			tb.Fatal(err)
		}
		out[l.ID()] = l.Encode()
	}
	return out
}
