package removal

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"shoplist/cluster/placement"
)

// Config configures a Decider.
type Config struct {
	// DeadAfter is how long a member may stay unusable before it is
	// removed; negative never removes the dead (nor, on a sweep, the
	// drained: then only their reports remove them).
	DeadAfter time.Duration
	// RetryAfter is how long after a failed removal the member's removal
	// is not tried again.
	RetryAfter time.Duration
	// Logger receives the decisions and their outcomes.
	Logger *slog.Logger
}

// Server is what the proxy knows of a member.
type Server struct {
	// Usable means requests are routed to it.
	Usable bool
	// LastSeen is when its last message came.
	LastSeen time.Time
	// Report is its latest ServerReport.
	Report Report
}

// Report is a server's latest ServerReport: what it stores, at which ring
// epoch. A zero At means it has sent none.
type Report struct {
	Lists, Hints uint64
	Epoch        uint64    // the server's adopted epoch when it sent it
	At           time.Time // when it came
}

// Removal is a member to remove, and why (for the log).
type Removal struct {
	ID, Why string
}

// Decider decides which members the leading proxy removes. It is not safe
// for concurrent use: one goroutine, the proxy's loop, calls all its
// methods; it asks leader whether this proxy leads at the moment a
// decision needs it.
type Decider struct {
	cfg    Config
	leader placement.Leader

	leaderSince  time.Time            // when this proxy became leader; zero while it is not
	leavingSince map[string]uint64    // epoch at which each leaving member was first seen leaving
	removing     map[string]bool      // removals in progress
	retryAt      map[string]time.Time // failed removals: not retried before then
}

// New returns a Decider for the proxy that leader says whether it leads.
func New(cfg Config, leader placement.Leader) *Decider {
	return &Decider{
		cfg:          cfg,
		leader:       leader,
		leavingSince: map[string]uint64{},
		removing:     map[string]bool{},
		retryAt:      map[string]time.Time{},
	}
}

// Track records the epoch at which each leaving member of v was first seen
// leaving, and forgets the members that are not leaving any more. A
// drained server is removed only on a report sent at that epoch or later,
// when it had already adopted a ring in which it owns nothing. The proxy
// calls it with every view it adopts.
func (d *Decider) Track(v placement.View) {
	for _, id := range v.Leaving {
		if _, ok := d.leavingSince[id]; !ok {
			d.leavingSince[id] = v.Epoch
		}
	}
	for id := range d.leavingSince {
		if !slices.Contains(v.Leaving, id) {
			delete(d.leavingSince, id)
		}
	}
}

// Reported returns the removal of the member id, if it is leaving, s's
// report shows it has handed everything over, and this proxy leads. The
// proxy calls it on every ServerReport.
func (d *Decider) Reported(now time.Time, id string, s Server) (Removal, bool) {
	since, leaving := d.leavingSince[id]
	r := s.Report
	if !leaving || r.At.IsZero() || r.Epoch < since || r.Lists != 0 || r.Hints != 0 || !d.leader.IsLeader() {
		return Removal{}, false
	}
	return d.start(now, id, fmt.Sprintf("drained: it reported no lists and no hints at epoch %d", r.Epoch))
}

// Sweep returns the removals due, if this proxy leads: the members of v
// that have not been usable for DeadAfter (counted from when this proxy
// became leader at the latest, so a new leader gives every server the full
// delay), then the drained leaving members whose report came before this
// proxy led. server returns what the proxy knows of a server; false if it
// has not said hello. The proxy calls it with every liveness sweep.
func (d *Decider) Sweep(now time.Time, v placement.View, server func(id string) (Server, bool)) []Removal {
	if !d.leader.IsLeader() {
		d.leaderSince = time.Time{}
		return nil
	}
	if d.leaderSince.IsZero() {
		d.leaderSince = now
		d.cfg.Logger.Info("this proxy leads: it removes dead and drained servers", "dead_after", d.cfg.DeadAfter)
	}
	if d.cfg.DeadAfter < 0 {
		return nil
	}
	var out []Removal
	add := func(rm Removal, ok bool) {
		if ok {
			out = append(out, rm)
		}
	}
	for _, id := range slices.Concat(v.Ring.Servers(), v.Leaving) {
		s, known := server(id)
		if known && s.Usable {
			continue
		}
		since := d.leaderSince
		if known && s.LastSeen.After(since) {
			since = s.LastSeen
		}
		if gone := now.Sub(since); gone >= d.cfg.DeadAfter {
			add(d.start(now, id, fmt.Sprintf("dead: unusable for %v (dead after %v)", gone.Round(time.Second), d.cfg.DeadAfter)))
		}
	}
	for id := range d.leavingSince {
		if s, known := server(id); known {
			add(d.Reported(now, id, s))
		}
	}
	return out
}

// start decides to remove a member, unless a removal of it is in progress
// or failed less than RetryAfter ago.
func (d *Decider) start(now time.Time, id, why string) (Removal, bool) {
	if d.removing[id] || now.Before(d.retryAt[id]) {
		return Removal{}, false
	}
	d.removing[id] = true
	d.cfg.Logger.Warn("removing server from the ring", "server", id, "why", why)
	return Removal{ID: id, Why: why}, true
}

// Done records the end of a removal the Decider returned, with the
// membership's answer, and reports whether the member was removed. A
// member someone else removed first is not retried; another failure is,
// after RetryAfter.
func (d *Decider) Done(now time.Time, id string, err error) (removed bool) {
	delete(d.removing, id)
	switch {
	case err == nil:
		delete(d.retryAt, id)
		d.cfg.Logger.Info("server removed from the ring", "server", id)
		return true
	case errors.Is(err, placement.ErrNotMember):
		delete(d.retryAt, id) // someone else removed it
	default:
		d.retryAt[id] = now.Add(d.cfg.RetryAfter)
		d.cfg.Logger.Warn("removing server failed; retrying", "server", id, "err", err)
	}
	return false
}

// InProgress is how many removals the Decider returned that are not Done.
func (d *Decider) InProgress() int { return len(d.removing) }
