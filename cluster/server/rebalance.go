package server

import (
	"context"
	"slices"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"shoplist/hashring"
	"shoplist/protocol"
	"shoplist/storage"
)

// Rebalancing, the server's side. Every list follows the ring: when this
// server adopts a new epoch (and once after a start, at the first epoch it
// adopts), the handoff goroutine makes a rebalance pass over every stored
// list, with owners := the list's N owners on the adopted ring, where only
// members that are not leaving are placed:
//
//   - the list's sender (move.go: the first of its owners on the ring of
//     the previous pass that is still an owner): a durable move hint for
//     each owner that was not one on that ring;
//   - another owner: nothing (anti-entropy keeps its copy in line);
//   - not an owner (the list's range moved away, or this server is
//     leaving): a move hint for one owner, the sender, so that what its
//     copy holds is on an owner before the copy goes;
//   - on the first pass after a start, with no previous ring to compare
//     with: nothing for an owner (anti-entropy covers the rest), a move
//     hint for every owner otherwise;
//   - any hint whose server is no longer one of the list's owners (it left
//     the ring, or the ring moved the list away from it) is deleted and
//     replaced by hints for the current owners other than this server, in
//     the same atomic write, so what was kept for it reaches the owners.
//
// Move hints are delivered by the handoff rounds like hints for down
// owners, and the copy goes only as it does for those (storage/drop.go).
// A Handoff answered NotFound (the proxy no longer counts that server among
// the list's owners) is re-targeted the same way, once this server's ring
// agrees.

// rehintChunk is how many lists' hint changes are written, and made
// durable, at once by a rebalance pass.
const rehintChunk = 512

// ownerRing is the ring of the latest adopted epoch, to tell whether this
// server owns a list and who does.
type ownerRing struct {
	epoch uint64
	ring  *hashring.Ring // placed members only: not leaving
	n     int
}

// ownersAt returns the owners of ring position pos.
func (r *ownerRing) ownersAt(pos uint64) []string { return r.ring.OwnersAt(pos, r.n) }

// counters are the server's running totals (Stats).
type counters struct {
	handoffs  atomic.Uint64 // hints of either kind delivered
	moves     atomic.Uint64 // move hints delivered
	dropped   atomic.Uint64 // copies dropped after delivery
	passes    atomic.Uint64 // rebalance passes completed
	retargets atomic.Uint64 // hints re-targeted to current owners
	digests   atomic.Uint64 // Digests answered
}

// Stats is a snapshot of what a server stores and has done since it started.
type Stats struct {
	Epoch  uint64 // ring epoch adopted
	Lists  int    // lists stored
	Hints  int    // hint records, of both kinds
	Moving int    // move hints (rebalancing) among them
	// HandoffsDelivered counts hints (of both kinds) delivered to their
	// owners; MovesDelivered the move hints among them: lists copied to a
	// new owner after a ring change.
	HandoffsDelivered, MovesDelivered uint64
	// CopiesDropped counts lists this server dropped after handing them
	// to their owners, as it does not own them.
	CopiesDropped uint64
	// RebalancePasses counts completed rebalance passes; Retargeted the
	// hints replaced by hints to a list's current owners.
	RebalancePasses, Retargeted uint64
	// DigestsAnswered counts anti-entropy Digests answered.
	DigestsAnswered uint64
	// Healed counts the lists whose corrupt values the store dropped since
	// the server started, so that the other replicas make them whole
	// again; Damaged is how many lists it refuses as damaged until an
	// operator repairs them (storage/heal.go).
	Healed  uint64
	Damaged int
	// SetAside is where the store's corrupt files went when the server
	// started on an empty store instead (storage/aside.go); empty if it
	// did not.
	SetAside string
	// MemoryHeld is the bytes of requests and replies the server holds
	// now, of its memory budget (budget.go); MemoryRefused counts what
	// the budget refused: requests answered Unavailable, replies replaced
	// by an error, Handoffs put off to a later round.
	MemoryHeld    int64
	MemoryRefused uint64
}

// Stats returns the server's figures. It is cheap: counters in memory.
func (s *Server) Stats() Stats {
	return Stats{
		Epoch:             s.epoch.Load(),
		Lists:             s.store.ListCount(),
		Hints:             s.store.HintCount(),
		Moving:            s.store.MoveHintCount(),
		HandoffsDelivered: s.stats.handoffs.Load(),
		MovesDelivered:    s.stats.moves.Load(),
		CopiesDropped:     s.stats.dropped.Load(),
		RebalancePasses:   s.stats.passes.Load(),
		Retargeted:        s.stats.retargets.Load(),
		DigestsAnswered:   s.stats.digests.Load(),
		Healed:            s.store.Heals(),
		Damaged:           s.store.DamagedCount(),
		SetAside:          s.setAside(),
		MemoryHeld:        s.mem.used.Load(),
		MemoryRefused:     s.mem.refused.Load(),
	}
}

// report returns the body of the ServerReport the loop sends each proxy
// once per interval: counts kept in memory, never a disk read.
func (s *Server) report() protocol.ServerReportBody {
	return protocol.ServerReportBody{
		Lists:   uint64(s.store.ListCount()),
		Hints:   uint64(s.store.HintCount()),
		Moving:  uint64(s.store.MoveHintCount()),
		Healed:  s.store.Heals(),
		Damaged: uint64(s.store.DamagedCount()),
		Reset:   s.store.Aside() != nil,
	}
}

// adoptRing keeps the ring an EpochAnnounce describes. Members that are
// leaving are not placed: they own nothing, this server included, and
// hand everything they keep to the owners. Other states (Up, and Down or
// Joining should a proxy announce them) keep their place.
func (s *Server) adoptRing(b protocol.EpochBody) {
	var placed []string
	leaving := false
	for _, m := range b.Members {
		if m.State == protocol.MemberLeaving {
			leaving = leaving || m.ID == s.id
			continue
		}
		placed = append(placed, m.ID)
	}
	s.ring.Store(&ownerRing{epoch: b.Epoch, ring: hashring.New(placed, hashring.WithVNodes(int(b.VNodes))), n: int(b.N)})
	if leaving {
		s.cfg.Logger.Info("this server is leaving the ring: handing every list over to its owners", "server", s.id, "epoch", b.Epoch)
	}
}

// ownsByRing reports whether the latest adopted ring makes this server an
// owner of the list; false when no ring has been announced.
func (s *Server) ownsByRing(id uuid.UUID) bool {
	r := s.ring.Load()
	return r != nil && slices.Contains(r.ownersAt(hashring.Position(id.String())), s.id)
}

// maybeRebalance runs a rebalance pass if a ring has been adopted since the
// last complete one. Only the handoff goroutine calls it.
func (s *Server) maybeRebalance(ctx context.Context) {
	cur := s.ring.Load()
	if cur == nil || cur == s.rebalanced {
		return
	}
	if err := s.rebalance(ctx, cur, s.rebalanced); err != nil {
		if ctx.Err() != nil {
			return // shutting down
		}
		s.log.error("rebalance", "server: rebalance pass failed; retrying at the next round", "epoch", cur.epoch, "err", err)
		return
	}
	s.rebalanced = cur
}

// rebalance is one pass over every stored list for the ring cur; prev is
// the ring of the previous complete pass, or nil.
func (s *Server) rebalance(ctx context.Context, cur, prev *ownerRing) error {
	start := time.Now()
	// Every Store checked against an older ring than cur is committed
	// before the scan below, and every later one is checked against cur
	// or a newer ring (admit.go).
	if s.cfg.beforeFence != nil {
		s.cfg.beforeFence()
	}
	s.store.Fence()
	hints, err := s.store.Hints()
	if err != nil {
		return err
	}
	held := map[uuid.UUID][]string{} // list → servers it has hints for
	for _, h := range hints {
		held[h.List] = append(held[h.List], h.Owner)
	}
	lists := s.store.ListPositions()
	var changes []storage.HintChange
	added, dropped, owned := 0, 0, 0
	flush := func() error {
		a, d, err := s.store.Rehint(changes)
		added, dropped, changes = added+a, dropped+d, changes[:0]
		return err
	}
	for _, lp := range lists {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		owners := cur.ownersAt(lp.Pos)
		if len(owners) == 0 {
			continue // nobody is placed: nowhere to move anything
		}
		c := s.hintChange(lp, owners, held[lp.List], prev)
		if slices.Contains(owners, s.id) {
			owned++
		}
		if len(c.Add) == 0 && len(c.Drop) == 0 {
			continue
		}
		if changes = append(changes, c); len(changes) == rehintChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	s.stats.passes.Add(1)
	s.stats.retargets.Add(uint64(dropped))
	s.cfg.Logger.Info("rebalance pass", "server", s.id, "epoch", cur.epoch, "lists", len(lists), "owned", owned,
		"move_hints_added", added, "hints_retargeted", dropped, "moving", s.store.MoveHintCount(),
		"took", time.Since(start).Round(time.Millisecond))
	return nil
}

// hintChange returns what a rebalance pass does to the hints of one list
// whose owners are owners; held are the servers it has hints for.
func (s *Server) hintChange(lp storage.ListPos, owners, held []string, prev *ownerRing) storage.HintChange {
	c := storage.HintChange{List: lp.List}
	for _, o := range held {
		if !slices.Contains(owners, o) {
			c.Drop = append(c.Drop, o)
		}
	}
	var targets []string
	switch {
	case len(c.Drop) > 0:
		targets = owners // what was kept for a server that is no owner goes to every owner
	case prev == nil:
		// The first pass after a start: who else holds the list, and who
		// sends it, is not known.
		if !slices.Contains(owners, s.id) {
			targets = owners
		}
	default:
		targets = s.moveTargets(prev.ownersAt(lp.Pos), owners, held)
	}
	for _, o := range targets {
		if o != s.id && !slices.Contains(held, o) {
			c.Add = append(c.Add, o)
		}
	}
	return c
}

// moveTargets returns the servers this server is to send a list to after
// a ring change (move.go): before are the list's owners on the ring of the
// previous pass, owners its owners now, held the owners it already has
// hints for.
func (s *Server) moveTargets(before, owners, held []string) []string {
	sender := moveSender(before, owners)
	switch {
	case s.id == sender:
		var fresh []string
		for _, o := range owners {
			if !slices.Contains(before, o) {
				fresh = append(fresh, o)
			}
		}
		return fresh
	case slices.Contains(owners, s.id):
		return nil // a copy kept by an owner: the sender moves the list
	}
	for _, o := range held {
		if slices.Contains(owners, o) {
			return nil // a hint already takes this copy to an owner
		}
	}
	if slices.Contains(owners, sender) {
		return []string{sender}
	}
	return owners[:1]
}

// retarget handles a Handoff the proxy answered NotFound: the server it
// names is not one of the list's owners on the proxy's ring. Once the
// adopted ring agrees, the hint is replaced by hints for the list's current
// owners other than this server; until then it stays (the proxy announces
// its newer epoch, whose rebalance pass re-targets it).
func (s *Server) retarget(h storage.Hint) {
	cur := s.ring.Load()
	if cur == nil {
		return
	}
	owners := cur.ownersAt(hashring.Position(h.List.String()))
	if len(owners) == 0 {
		return // nobody is placed: nowhere to send it
	}
	if slices.Contains(owners, h.Owner) {
		s.log.warn("retarget-later", "server: the proxy says a hint's server is no owner, but this server's ring says it is; keeping the hint until a newer epoch",
			"list", h.List, "owner", h.Owner, "epoch", cur.epoch)
		return
	}
	c := storage.HintChange{List: h.List, Drop: []string{h.Owner}}
	for _, o := range owners {
		if o != s.id {
			c.Add = append(c.Add, o)
		}
	}
	added, dropped, err := s.store.Rehint([]storage.HintChange{c})
	if err != nil {
		s.log.error("retarget", "server: cannot re-target a hint; it stays", "list", h.List, "owner", h.Owner, "err", err)
		return
	}
	s.stats.retargets.Add(uint64(dropped))
	s.cfg.Logger.Info("hint re-targeted to the list's current owners", "server", s.id, "list", h.List,
		"from", h.Owner, "to", c.Add, "added", added)
}
