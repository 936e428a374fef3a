package proxy

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"shoplist/hashring"
	"shoplist/protocol"
)

// Anti-entropy, the proxy's side. Replicas of a list can diverge without
// anyone noticing: a Store lost with a crashed server, a hint dropped, a
// write acknowledged by W of N replicas while the last one was paused. Read
// repair fixes lists that are read; anti-entropy fixes the others. On the
// leader proxy only, once per Config.AntiEntropyInterval, a round takes the
// next primary range of the ring (round robin over Ring.Ranges) and its N
// owners (Ring.OwnersAt(range.End, N): every position of a primary range
// has the same preference list). If every owner is usable it:
//
//  1. sends each owner a Digest of the range cut into aeBuckets buckets and
//     compares the answers' (Count, Sum) per bucket; equal everywhere means
//     the range is in sync and the round ends;
//  2. sends a second Digest wanting the differing buckets (as many as fit
//     in one DigestReply), and compares the entries: a list whose hash
//     differs between owners, or that some owner lacks, differs;
//  3. Fetches every differing list (at most aeMaxRepairs) from every owner;
//  4. merges the answers (mergeAnswers) and Stores the merge on every owner
//     whose bytes differ from it. Servers merge what they are sent, so this
//     never loses a write that arrived meanwhile.
//
// One round is in flight at most. Each phase ends when every call is
// answered, or failed (an Error, the server down), or at the phase's
// deadline (the proxy's Timeout), so a server that never answers cannot
// wedge the rounds: a digest missing from an owner ends the round
// uncompared; a missing Fetch leaves that owner out of the merge and the
// repair. The round's calls are the coordinator's own (not ops: nothing is
// answered to a client); their replies reach it through antiEntropyReply,
// called by onBackend. The ring epoch changing ends the round.

// Anti-entropy bounds.
const (
	// aeBuckets is how many buckets a round cuts its range into.
	aeBuckets = 64
	// aeMaxRepairs bounds the lists one round fetches and repairs (and
	// merges, on the loop): the rest are found again when the round robin
	// comes back to the range.
	aeMaxRepairs = 128
)

// AntiEntropyStats counts what the anti-entropy coordinator has done since
// the proxy started.
type AntiEntropyStats struct {
	// Rounds is how many rounds ended, whether they completed or not.
	Rounds uint64 `json:"rounds"`
	// RangesSkipped counts ranges not compared because an owner was not
	// usable when their turn came.
	RangesSkipped uint64 `json:"ranges_skipped"`
	// RangesCompared counts ranges whose owners all answered the digest;
	// RangesInSync those of them whose digests were equal.
	RangesCompared uint64 `json:"ranges_compared"`
	RangesInSync   uint64 `json:"ranges_in_sync"`
	// ListsRepaired counts lists whose merged state was acknowledged by
	// every owner it was stored on.
	ListsRepaired uint64 `json:"lists_repaired"`
	// BytesSent and BytesReceived count the anti-entropy messages' bytes
	// (header and body frames, without the routing identity).
	BytesSent     uint64 `json:"bytes_sent"`
	BytesReceived uint64 `json:"bytes_received"`
	// LastRound is how long the last round took (nanoseconds in JSON),
	// LastRoundAt when it ended.
	LastRound   time.Duration `json:"last_round_ns"`
	LastRoundAt time.Time     `json:"last_round_at"`
}

// antiEntropy is the coordinator's state, owned by the loop.
type antiEntropy struct {
	stats  AntiEntropyStats
	next   int       // index in Ring.Ranges of the next range to compare
	nextAt time.Time // when the next round may start; zero before the first tick
	round  *aeRound  // the round in flight, or nil
}

// aePhase is the step a round is at.
type aePhase uint8

const (
	aeDigest  aePhase = iota + 1 // bucket sums from every owner
	aeEntries                    // list hashes of the differing buckets
	aeFetch                      // the differing lists' states
	aeStore                      // the merged states to the owners that differ
)

// aeCall is one request of a round awaiting its reply.
type aeCall struct {
	server string
	list   uuid.UUID // Fetch and Store; uuid.Nil for a Digest
}

// aeRound is one round in flight.
type aeRound struct {
	rng      hashring.Range
	owners   []string
	epoch    uint64
	started  time.Time
	phase    aePhase
	deadline time.Time // of the current phase
	calls    map[uint64]aeCall

	digests  map[string]protocol.DigestReplyBody // this phase's replies, by owner
	buckets  []int                               // buckets that differ
	lists    []uuid.UUID                         // lists that differ (at most aeMaxRepairs)
	answers  map[uuid.UUID][]answer              // Fetch replies by list
	storing  map[uuid.UUID]int                   // Stores not yet acknowledged, by list
	failed   map[uuid.UUID]bool                  // lists a Store of failed
	busy     int                                 // differing lists skipped: a push is writing them
	problems []string                            // why calls failed, for the log
	sent     uint64                              // bytes of this round
	received uint64
}

// antiEntropyStats returns the coordinator's counters.
func (l *loop) antiEntropyStats() AntiEntropyStats { return l.ae.stats }

// antiEntropyDeadline is when the loop must next run antiEntropyTick: the
// deadline of the round in flight, or the start of the next round.
func (l *loop) antiEntropyDeadline() (time.Time, bool) {
	switch {
	case l.cfg.AntiEntropyInterval < 0:
		return time.Time{}, false
	case l.ae.round != nil:
		return l.ae.round.deadline, true
	}
	return l.ae.nextAt, !l.ae.nextAt.IsZero()
}

// antiEntropyTick ends the phase of the round in flight if its deadline
// has passed, or starts a round when one is due. The loop calls it on
// every iteration.
func (l *loop) antiEntropyTick() {
	every := l.cfg.AntiEntropyInterval
	if every < 0 {
		return
	}
	if r := l.ae.round; r != nil {
		l.aeCheck(r)
		return
	}
	if l.ae.nextAt.IsZero() {
		l.ae.nextAt = l.now.Add(every)
		return
	}
	if l.now.Before(l.ae.nextAt) {
		return
	}
	l.ae.nextAt = l.now.Add(every)
	if l.isLeader() {
		l.aeStart()
	}
}

// aeStart starts a round on the next range, unless it cannot be compared.
func (l *loop) aeStart() {
	ranges := l.view.Ring.Ranges()
	if len(ranges) == 0 {
		return
	}
	i := l.ae.next % len(ranges)
	l.ae.next = i + 1
	g := ranges[i]
	owners := l.view.Ring.OwnersAt(g.End, l.cfg.N)
	if len(owners) < 2 {
		return // a single replica has nothing to compare with
	}
	for _, id := range owners {
		if !l.usable(id) {
			l.ae.stats.RangesSkipped++
			return
		}
	}
	r := &aeRound{rng: g, owners: owners, epoch: l.view.Epoch, started: l.now, calls: map[uint64]aeCall{}}
	l.ae.round = r
	l.aeDigests(r, aeDigest, nil)
}

// aeDigests sends every owner a Digest of the round's range, wanting the
// entries of the buckets want.
func (l *loop) aeDigests(r *aeRound, phase aePhase, want []int) {
	r.phase, r.deadline = phase, l.now.Add(l.cfg.Timeout)
	r.digests = make(map[string]protocol.DigestReplyBody, len(r.owners))
	body := protocol.DigestBody{Start: r.rng.Start, End: r.rng.End, Buckets: aeBuckets, Want: want}
	for _, id := range r.owners {
		l.aeSend(r, aeCall{server: id}, func(reqID uint64) (protocol.Message, error) {
			return protocol.NewDigest(reqID, r.epoch, body)
		})
	}
	l.aeMaybeAdvance(r)
}

// aeSend sends one request of the round to c.server and records the call.
func (l *loop) aeSend(r *aeRound, c aeCall, build func(reqID uint64) (protocol.Message, error)) {
	l.nextID++
	m, err := build(l.nextID)
	pr := l.servers[c.server]
	if err == nil && pr == nil {
		err = fmt.Errorf("server %s is not connected", c.server)
	}
	if err == nil {
		err = l.send(pr, m)
	}
	if err != nil {
		r.problems = append(r.problems, fmt.Sprintf("%s: send failed (%v)", c.server, err))
		return
	}
	n := uint64(len(m.Frames()[0]) + len(m.Body))
	r.sent += n
	l.ae.stats.BytesSent += n
	r.calls[l.nextID] = c
}

// antiEntropyReply takes a server's reply to a call of the round in flight
// and reports whether it was one (or a late DigestReply, which nothing
// else expects); size is the reply's bytes.
func (l *loop) antiEntropyReply(pr *peer, m protocol.Message, size int) bool {
	r := l.ae.round
	c, ok := aeCallOf(r, m.RequestID)
	if !ok || c.server != pr.id {
		return m.Type == protocol.TypeDigestReply
	}
	delete(r.calls, m.RequestID)
	r.received += uint64(size)
	l.ae.stats.BytesReceived += uint64(size)
	l.aeReceive(r, c, m)
	l.aeMaybeAdvance(r)
	return true
}

// aeCallOf returns the round's call with request ID id.
func aeCallOf(r *aeRound, id uint64) (aeCall, bool) {
	if r == nil {
		return aeCall{}, false
	}
	c, ok := r.calls[id]
	return c, ok
}

// aeReceive records one reply.
func (l *loop) aeReceive(r *aeRound, c aeCall, m protocol.Message) {
	problem := func(format string, args ...any) {
		r.problems = append(r.problems, c.server+": "+fmt.Sprintf(format, args...))
		if c.list != uuid.Nil && r.phase == aeStore {
			r.failed[c.list] = true
			r.storing[c.list]--
		}
	}
	switch {
	case m.Type == protocol.TypeError:
		problem("%v", m.Err())
	case m.ListID != c.list:
		problem("%v for list %s, want %s", m.Type, m.ListID, c.list)
	case r.phase <= aeEntries && m.Type == protocol.TypeDigestReply:
		b, err := protocol.DecodeDigestReplyBody(m.Body)
		switch {
		case err != nil:
			l.bad.report(l.log, l.now, "backend", []byte(c.server), fmt.Errorf("digest reply: %w", err))
			problem("unreadable digest reply (%v)", err)
		case len(b.Buckets) != aeBuckets:
			problem("digest reply with %d buckets, want %d", len(b.Buckets), aeBuckets)
		default:
			r.digests[c.server] = b
		}
	case r.phase == aeFetch && m.Type == protocol.TypeFetchReply:
		r.answers[c.list] = append(r.answers[c.list], answer{server: c.server, body: m.Body})
	case r.phase == aeStore && m.Type == protocol.TypeStoreReply:
		r.storing[c.list]--
	default:
		problem("answered with %v in the %v phase", m.Type, r.phase)
	}
}

// aeCheck ends the round if the ring changed, and fails the calls of a
// phase whose deadline has passed or whose server is no longer usable.
func (l *loop) aeCheck(r *aeRound) {
	if r.epoch != l.view.Epoch {
		r.problems = append(r.problems, fmt.Sprintf("ring changed to epoch %d", l.view.Epoch))
		l.aeEnd(r)
		return
	}
	late := !l.now.Before(r.deadline)
	for id, c := range r.calls {
		why := ""
		switch {
		case !l.usable(c.server):
			why = "no longer usable"
		case late:
			why = "no answer within " + l.cfg.Timeout.String()
		default:
			continue
		}
		delete(r.calls, id)
		r.problems = append(r.problems, c.server+": "+why)
		if r.phase == aeStore {
			r.failed[c.list] = true
			r.storing[c.list]--
		}
	}
	l.aeMaybeAdvance(r)
}

// aeMaybeAdvance moves the round to its next phase once nothing of the
// current one is pending.
func (l *loop) aeMaybeAdvance(r *aeRound) {
	if len(r.calls) > 0 || l.ae.round != r {
		return
	}
	switch r.phase {
	case aeDigest:
		if len(r.digests) < len(r.owners) {
			l.aeEnd(r) // some owner did not answer: not compared
			return
		}
		l.ae.stats.RangesCompared++
		r.buckets = differingBuckets(r.owners, r.digests)
		if len(r.buckets) == 0 {
			l.ae.stats.RangesInSync++
			l.aeEnd(r)
			return
		}
		l.aeDigests(r, aeEntries, wantBuckets(r.buckets, r.owners, r.digests))
	case aeEntries:
		if len(r.digests) < len(r.owners) {
			l.aeEnd(r)
			return
		}
		r.lists = differingLists(r.owners, r.digests, aeMaxRepairs)
		l.aeFetches(r)
	case aeFetch:
		l.aeStores(r)
	default:
		l.aeEnd(r)
	}
}

// aeFetches asks every owner for every differing list.
func (l *loop) aeFetches(r *aeRound) {
	r.phase, r.deadline = aeFetch, l.now.Add(l.cfg.Timeout)
	r.answers = make(map[uuid.UUID][]answer, len(r.lists))
	for _, list := range r.lists {
		for _, id := range r.owners {
			l.aeSend(r, aeCall{server: id, list: list}, func(reqID uint64) (protocol.Message, error) {
				return protocol.NewFetch(reqID, r.epoch, list), nil
			})
		}
	}
	l.aeMaybeAdvance(r)
}

// aeStores merges each differing list's answers and stores the merge on
// every owner that answered with other bytes. A list a push is writing is
// left alone, as read repair does: its replicas differ mostly by that push.
func (l *loop) aeStores(r *aeRound) {
	r.phase, r.deadline = aeStore, l.now.Add(l.cfg.Timeout)
	r.storing, r.failed = map[uuid.UUID]int{}, map[uuid.UUID]bool{}
	for _, list := range r.lists {
		answers := r.answers[list]
		if l.writing[list] > 0 {
			r.busy++
			continue
		}
		merged, err := mergeAnswers(list, answers)
		if err != nil {
			l.bad.report(l.log, l.now, "backend", []byte("replicas of "+list.String()), err)
		}
		if merged == nil {
			continue
		}
		for _, a := range answers {
			if equalBytes(a.body, merged) {
				continue
			}
			before := len(r.calls)
			l.aeSend(r, aeCall{server: a.server, list: list}, func(reqID uint64) (protocol.Message, error) {
				return protocol.NewStore(reqID, r.epoch, list, merged), nil
			})
			if len(r.calls) > before {
				r.storing[list]++
			} else {
				r.failed[list] = true
			}
		}
	}
	l.aeMaybeAdvance(r)
}

// aeEnd ends the round: it counts it and logs it if it found differences
// or could not complete.
func (l *loop) aeEnd(r *aeRound) {
	st := &l.ae.stats
	repaired := 0
	for list, n := range r.storing {
		if n == 0 && !r.failed[list] {
			repaired++
		}
	}
	st.Rounds++
	st.ListsRepaired += uint64(repaired)
	st.LastRound, st.LastRoundAt = l.now.Sub(r.started), l.now
	l.ae.round = nil
	if len(r.buckets) == 0 && len(r.problems) == 0 {
		return
	}
	msg := "anti-entropy round found differences"
	if len(r.buckets) == 0 {
		msg = "anti-entropy round incomplete"
	}
	l.log.Info(msg, "range", r.rng.String(), "owners", r.owners, "epoch", r.epoch,
		"buckets_differing", len(r.buckets), "lists_differing", len(r.lists), "lists_repaired", repaired,
		"lists_busy", r.busy, "bytes_sent", r.sent, "bytes_received", r.received,
		"duration", l.now.Sub(r.started).Round(time.Microsecond), "problems", r.problems)
}

// String names a phase, for the log.
func (p aePhase) String() string {
	return [...]string{"", "digest", "entries", "fetch", "store"}[p]
}
