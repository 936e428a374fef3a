package antientropy

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"shoplist/cluster/placement"
	"shoplist/hashring"
	"shoplist/protocol"
)

// Bounds of a round.
const (
	// Buckets is how many buckets a round cuts its range into.
	Buckets = 64
	// DefaultMaxRepairs bounds the lists one round fetches and repairs
	// (and merges, on the proxy's loop): the rest are found again when the
	// round robin comes back to the range.
	DefaultMaxRepairs = 128
)

// Config configures a Coordinator.
type Config struct {
	// Interval is the period of rounds; negative disables them.
	Interval time.Duration
	// Timeout is the deadline of each phase of a round.
	Timeout time.Duration
	// N is the number of replicas of each list: a range's owners.
	N int
	// Logger receives the rounds that found differences or could not
	// complete.
	Logger *slog.Logger
	// MaxRepairs bounds the lists a round fetches and repairs; 0 means
	// DefaultMaxRepairs.
	MaxRepairs int
	// MaxEntries bounds the list entries a round asks of each owner, at
	// most what a server itemises in one DigestReply; 0 means
	// protocol.MaxDigestEntries.
	MaxEntries int
}

// withDefaults returns c with its zero caps filled in.
func (c Config) withDefaults() Config {
	if c.MaxRepairs <= 0 {
		c.MaxRepairs = DefaultMaxRepairs
	}
	if c.MaxEntries <= 0 || c.MaxEntries > protocol.MaxDigestEntries {
		c.MaxEntries = protocol.MaxDigestEntries
	}
	return c
}

// Host is the proxy running the coordinator, as the coordinator sees it.
// The coordinator calls it only from within its own methods, hence on the
// goroutine calling them (the proxy's loop): an implementation reads the
// loop's state without locking, and must not block.
type Host interface {
	// IsLeader reports whether this proxy leads its group: rounds start
	// on the leader only.
	IsLeader() bool
	// Usable reports whether requests may be routed to the server.
	Usable(server string) bool
	// Writing reports whether a client's push to the list is in progress:
	// its replicas then differ mostly by that push, whose own Stores are
	// on their way, and the list is left alone.
	Writing(list uuid.UUID) bool
	// NextRequestID returns a backend request ID that no other request of
	// the proxy is using.
	NextRequestID() uint64
	// Merge returns the merge of the owners' states of the list, nil if
	// none holds it; the error names the states left out because they
	// could not be read.
	Merge(list uuid.UUID, answers []Answer) ([]byte, error)
	// BadInput reports input that could not be read, from a server or
	// about a list's replicas, to the proxy's rate-limited log.
	BadInput(from string, err error)
}

// Answer is one owner's reply to a Fetch: its state of the list, nil if it
// does not hold it.
type Answer struct {
	Server string
	State  []byte
}

// Request is a message the coordinator wants sent to a server. Msg's
// RequestID names it in Reply and NotSent.
type Request struct {
	Server string
	Msg    protocol.Message
}

// Coordinator runs the rounds. It is not safe for concurrent use: one
// goroutine, the proxy's loop, calls all its methods.
type Coordinator struct {
	cfg  Config
	host Host

	now   time.Time // of the call in progress
	stats Stats
	next  int // index in Ring.Ranges of the next range to compare
	// cursors holds where the next round over each range starts
	// comparing (sweep.go), for the ring of epoch cursorEpoch.
	cursors     map[hashring.Range]uint64
	cursorEpoch uint64
	nextAt      time.Time // when the next round may start; zero before the first tick
	round       *round    // the round in flight, or nil
	out         []Request // requests of the call in progress, for its caller to send
}

// New returns a coordinator that has run no round yet.
func New(cfg Config, host Host) *Coordinator {
	return &Coordinator{cfg: cfg.withDefaults(), host: host, cursors: map[hashring.Range]uint64{}}
}

// Busy reports whether a round is in flight: what it fetched is still
// held.
func (c *Coordinator) Busy() bool { return c.round != nil }

// Stats returns the coordinator's counters.
func (c *Coordinator) Stats() Stats { return c.stats }

// Deadline is when the host must next call Tick: the deadline of the round
// in flight, or the start of the next round. False when rounds are
// disabled, or before the first Tick.
func (c *Coordinator) Deadline() (time.Time, bool) {
	switch {
	case c.cfg.Interval < 0:
		return time.Time{}, false
	case c.round != nil:
		return c.round.deadline, true
	}
	return c.nextAt, !c.nextAt.IsZero()
}

// Tick ends the round in flight if the ring has changed, fails the calls
// whose deadline has passed or whose server is no longer usable, or starts
// a round when one is due and this proxy leads. v is the host's current
// view. The host calls it on every iteration of its loop and sends the
// requests it returns.
func (c *Coordinator) Tick(now time.Time, v placement.View) []Request {
	every := c.cfg.Interval
	if every < 0 {
		return nil
	}
	c.now = now
	if r := c.round; r != nil {
		c.check(r, v.Epoch)
		return c.flush()
	}
	if c.nextAt.IsZero() {
		c.nextAt = now.Add(every)
		return nil
	}
	if now.Before(c.nextAt) {
		return nil
	}
	c.nextAt = now.Add(every)
	if c.host.IsLeader() {
		c.start(v)
	}
	return c.flush()
}

// Reply hands the coordinator a server's reply; size is its bytes (header
// and body frames). ok reports whether the reply was the coordinator's:
// the answer to a call of the round in flight, or a late DigestReply,
// which nothing else expects. The host sends the requests it returns.
func (c *Coordinator) Reply(now time.Time, server string, m protocol.Message, size int) (reqs []Request, ok bool) {
	r := c.round
	cl, ok := r.call(m.RequestID)
	if !ok || cl.server != server {
		return nil, m.Type == protocol.TypeDigestReply
	}
	c.now = now
	delete(r.calls, m.RequestID)
	r.received += uint64(size)
	c.stats.BytesReceived += uint64(size)
	c.receive(r, cl, m)
	c.advance(r)
	return c.flush(), true
}

// NotSent tells the coordinator that the host could not send its request
// reqID: the call fails at once. The host sends the requests it returns.
func (c *Coordinator) NotSent(now time.Time, reqID uint64, err error) []Request {
	r := c.round
	cl, ok := r.call(reqID)
	if !ok {
		return nil
	}
	c.now = now
	delete(r.calls, reqID)
	r.sent -= cl.size
	c.stats.BytesSent -= cl.size
	r.problems = append(r.problems, fmt.Sprintf("%s: send failed (%v)", cl.server, err))
	if r.phase == phaseStore {
		r.failed[cl.list] = true
		r.storing[cl.list]--
	}
	c.advance(r)
	return c.flush()
}

// start starts a round on the next range of v's ring, unless it cannot be
// compared.
func (c *Coordinator) start(v placement.View) {
	ranges := v.Ring.Ranges()
	if len(ranges) == 0 {
		return
	}
	i := c.next % len(ranges)
	c.next = i + 1
	g := ranges[i]
	owners := v.Ring.OwnersAt(g.End, c.cfg.N)
	if len(owners) < 2 {
		return // a single replica has nothing to compare with
	}
	for _, id := range owners {
		if !c.host.Usable(id) {
			c.stats.RangesSkipped++
			return
		}
	}
	if v.Epoch != c.cursorEpoch {
		clear(c.cursors) // another ring, other ranges
		c.cursorEpoch = v.Epoch
	}
	r := &round{rng: g, owners: owners, epoch: v.Epoch, started: c.now, calls: map[uint64]call{},
		span: span{lo: 0, hi: g.End - g.Start - 1}, from: c.cursors[g]}
	c.round = r
	c.digests(r, phaseDigest, nil)
}

// flush returns the requests queued by the call in progress.
func (c *Coordinator) flush() []Request {
	out := c.out
	c.out = nil
	return out
}
