package antientropy

import (
	"bytes"
	"fmt"
	"time"

	"github.com/google/uuid"

	"shoplist/hashring"
	"shoplist/protocol"
)

// phase is the step a round is at.
type phase uint8

const (
	phaseDigest  phase = iota + 1 // bucket sums from every owner
	phaseEntries                  // list hashes of the differing buckets
	phaseFetch                    // the differing lists' states
	phaseStore                    // the merged states to the owners that differ
)

// String names a phase, for the log.
func (p phase) String() string {
	return [...]string{"", "digest", "entries", "fetch", "store"}[p]
}

// call is one request of a round awaiting its reply.
type call struct {
	server string
	list   uuid.UUID // Fetch and Store; uuid.Nil for a Digest
	size   uint64    // the request's bytes, counted as sent
}

// round is one round in flight.
type round struct {
	rng      hashring.Range
	owners   []string
	epoch    uint64
	started  time.Time
	phase    phase
	deadline time.Time // of the current phase
	calls    map[uint64]call

	span    span   // the arc of the range the digests are of (sweep.go)
	depth   int    // how many times the round cut a bucket finer
	from    uint64 // the range's cursor when the round started
	through uint64 // where the buckets itemised end
	next    uint64 // the range's cursor after the round, once moved
	moved   bool

	digests  map[string]protocol.DigestReplyBody // this phase's replies, by owner
	buckets  []int                               // buckets of the range that differ
	lists    []uuid.UUID                         // lists that differ (at most Config.MaxRepairs)
	answers  map[uuid.UUID][]Answer              // Fetch replies by list
	storing  map[uuid.UUID]int                   // Stores not yet acknowledged, by list
	failed   map[uuid.UUID]bool                  // lists a Store of failed
	busy     int                                 // differing lists skipped: a push is writing them
	problems []string                            // why calls failed, for the log
	sent     uint64                              // bytes of this round
	received uint64
}

// call returns the round's call with request ID id; r may be nil.
func (r *round) call(id uint64) (call, bool) {
	if r == nil {
		return call{}, false
	}
	c, ok := r.calls[id]
	return c, ok
}

// digests sends every owner a Digest of the round's span, wanting the
// entries of the buckets want.
func (c *Coordinator) digests(r *round, p phase, want []int) {
	r.phase, r.deadline = p, c.now.Add(c.cfg.Timeout)
	r.digests = make(map[string]protocol.DigestReplyBody, len(r.owners))
	body := r.span.body(r.rng.Start, want)
	for _, id := range r.owners {
		c.send(r, call{server: id}, func(reqID uint64) (protocol.Message, error) {
			return protocol.NewDigest(reqID, r.epoch, body)
		})
	}
	c.advance(r)
}

// send queues one request of the round for the host and records its call;
// false if the request could not be built (a problem of the round).
func (c *Coordinator) send(r *round, cl call, build func(reqID uint64) (protocol.Message, error)) bool {
	id := c.host.NextRequestID()
	m, err := build(id)
	if err != nil {
		r.problems = append(r.problems, fmt.Sprintf("%s: send failed (%v)", cl.server, err))
		return false
	}
	cl.size = uint64(len(m.Frames()[0]) + len(m.Body))
	r.sent += cl.size
	c.stats.BytesSent += cl.size
	r.calls[id] = cl
	c.out = append(c.out, Request{Server: cl.server, Msg: m})
	return true
}

// receive records one reply.
func (c *Coordinator) receive(r *round, cl call, m protocol.Message) {
	problem := func(format string, args ...any) {
		r.problems = append(r.problems, cl.server+": "+fmt.Sprintf(format, args...))
		if cl.list != uuid.Nil && r.phase == phaseStore {
			r.failed[cl.list] = true
			r.storing[cl.list]--
		}
	}
	switch {
	case m.Type == protocol.TypeError:
		problem("%v", m.Err())
	case m.ListID != cl.list:
		problem("%v for list %s, want %s", m.Type, m.ListID, cl.list)
	case r.phase <= phaseEntries && m.Type == protocol.TypeDigestReply:
		b, err := protocol.DecodeDigestReplyBody(m.Body)
		switch {
		case err != nil:
			c.host.BadInput(cl.server, fmt.Errorf("digest reply: %w", err))
			problem("unreadable digest reply (%v)", err)
		case len(b.Buckets) != Buckets:
			problem("digest reply with %d buckets, want %d", len(b.Buckets), Buckets)
		default:
			r.digests[cl.server] = b
		}
	case r.phase == phaseFetch && m.Type == protocol.TypeFetchReply:
		r.answers[cl.list] = append(r.answers[cl.list], Answer{Server: cl.server, State: m.Body})
	case r.phase == phaseStore && m.Type == protocol.TypeStoreReply:
		r.storing[cl.list]--
	default:
		problem("answered with %v in the %v phase", m.Type, r.phase)
	}
}

// check ends the round if the ring changed to epoch, and fails the calls
// of a phase whose deadline has passed or whose server is no longer
// usable.
func (c *Coordinator) check(r *round, epoch uint64) {
	if r.epoch != epoch {
		r.problems = append(r.problems, fmt.Sprintf("ring changed to epoch %d", epoch))
		c.end(r)
		return
	}
	late := !c.now.Before(r.deadline)
	for id, cl := range r.calls {
		why := ""
		switch {
		case !c.host.Usable(cl.server):
			why = "no longer usable"
		case late:
			why = "no answer within " + c.cfg.Timeout.String()
		default:
			continue
		}
		delete(r.calls, id)
		r.problems = append(r.problems, cl.server+": "+why)
		if r.phase == phaseStore {
			r.failed[cl.list] = true
			r.storing[cl.list]--
		}
	}
	c.advance(r)
}

// advance moves the round to its next phase once nothing of the current
// one is pending.
func (c *Coordinator) advance(r *round) {
	if len(r.calls) > 0 || c.round != r {
		return
	}
	switch r.phase {
	case phaseDigest:
		if len(r.digests) < len(r.owners) {
			c.end(r) // some owner did not answer: not compared
			return
		}
		differ := differingBuckets(r.owners, r.digests)
		if r.depth == 0 {
			c.stats.RangesCompared++
			r.buckets = differ
			if len(differ) == 0 {
				c.stats.RangesInSync++
				r.resume(0)
				c.end(r)
				return
			}
		}
		c.pick(r, differ)
	case phaseEntries:
		if len(r.digests) < len(r.owners) {
			c.end(r)
			return
		}
		lists, truncated := differingLists(r.owners, r.digests, r.rng.Start, r.from)
		next := r.through + 1
		if truncated {
			next = r.from // the owners' counts grew since their digests: again next time
		}
		if len(lists) > c.cfg.MaxRepairs {
			lists = lists[:c.cfg.MaxRepairs]
			next = lists[len(lists)-1].off + 1
		}
		r.resume(next)
		for _, l := range lists {
			r.lists = append(r.lists, l.id)
		}
		c.fetches(r)
	case phaseFetch:
		c.stores(r)
	default:
		c.end(r)
	}
}

// pick goes on from a span's digests (sweep.go): it itemises the
// differing buckets from the range's cursor on, or digests the first of
// them again, cut finer, if it holds too many lists; with nothing left to
// compare after the cursor, the range's pass starts over from its start
// (at the top) or the round ends past the span.
func (c *Coordinator) pick(r *round, differ []int) {
	p := pickBuckets(r.span, differ, r.owners, r.digests, r.from, c.cfg.MaxEntries)
	switch {
	case p.descend >= 0:
		r.span, _ = r.span.bucket(p.descend)
		r.depth++
		c.digests(r, phaseDigest, nil)
	case len(p.want) > 0:
		r.through = p.through
		c.digests(r, phaseEntries, p.want)
	case r.depth == 0 && r.from > 0:
		r.from = 0 // every differing bucket lies before the cursor: a new pass
		c.pick(r, differ)
	default:
		r.resume(r.span.hi + 1) // the rest of the span agrees
		c.end(r)
	}
}

// resume sets the range's cursor for after the round to offset next, or
// to the range's start when next lies past its end.
func (r *round) resume(next uint64) {
	if w := r.rng.End - r.rng.Start; w != 0 && next >= w {
		next = 0
	}
	r.next, r.moved = next, true
}

// fetches asks every owner for every differing list.
func (c *Coordinator) fetches(r *round) {
	r.phase, r.deadline = phaseFetch, c.now.Add(c.cfg.Timeout)
	r.answers = make(map[uuid.UUID][]Answer, len(r.lists))
	for _, list := range r.lists {
		for _, id := range r.owners {
			c.send(r, call{server: id, list: list}, func(reqID uint64) (protocol.Message, error) {
				return protocol.NewFetch(reqID, r.epoch, list), nil
			})
		}
	}
	c.advance(r)
}

// stores merges each differing list's answers and stores the merge on
// every owner that answered with other bytes. A list a push is writing is
// left alone, as read repair does: its replicas differ mostly by that push.
func (c *Coordinator) stores(r *round) {
	r.phase, r.deadline = phaseStore, c.now.Add(c.cfg.Timeout)
	r.storing, r.failed = map[uuid.UUID]int{}, map[uuid.UUID]bool{}
	for _, list := range r.lists {
		answers := r.answers[list]
		if c.host.Writing(list) {
			r.busy++
			continue
		}
		merged, err := c.host.Merge(list, answers)
		if err != nil {
			c.host.BadInput("replicas of "+list.String(), err)
		}
		if merged == nil {
			continue
		}
		for _, a := range answers {
			if equalStates(a.State, merged) {
				continue
			}
			if c.send(r, call{server: a.Server, list: list}, func(reqID uint64) (protocol.Message, error) {
				return protocol.NewStore(reqID, r.epoch, list, merged), nil
			}) {
				r.storing[list]++
			} else {
				r.failed[list] = true
			}
		}
	}
	c.advance(r)
}

// end ends the round: it counts it and logs it if it found differences or
// could not complete.
func (c *Coordinator) end(r *round) {
	st := &c.stats
	repaired := 0
	for list, n := range r.storing {
		if n == 0 && !r.failed[list] {
			repaired++
		}
	}
	st.Rounds++
	st.ListsRepaired += uint64(repaired)
	st.LastRound, st.LastRoundAt = c.now.Sub(r.started), c.now
	c.round = nil
	if r.moved {
		c.cursors[r.rng] = r.next
	}
	if len(r.buckets) == 0 && len(r.problems) == 0 {
		return
	}
	msg := "anti-entropy round found differences"
	if len(r.buckets) == 0 {
		msg = "anti-entropy round incomplete"
	}
	c.cfg.Logger.Info(msg, "range", r.rng.String(), "owners", r.owners, "epoch", r.epoch,
		"buckets_differing", len(r.buckets), "depth", r.depth, "lists_differing", len(r.lists), "lists_repaired", repaired,
		"lists_busy", r.busy, "bytes_sent", r.sent, "bytes_received", r.received,
		"duration", c.now.Sub(r.started).Round(time.Microsecond), "problems", r.problems)
}

// equalStates compares two states of a list, nil being "no state".
func equalStates(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }
