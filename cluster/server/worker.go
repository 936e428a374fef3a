package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"shoplist/crdt"
	"shoplist/protocol"
	"shoplist/storage"
)

// job is one request for a worker, and where its reply goes.
type job struct {
	link int    // index of the proxy link it came on
	gen  uint64 // that link's connection number when it came
	msg  protocol.Message
	cost int64 // what it holds of the memory budget until served
}

// work is a worker goroutine. It serves batches of jobs until the loop
// closes the queue, handing the replies of each batch to the loop through
// the reply queue at once (it owns no socket); jobs still queued once ctx
// is done are answered "shutting down" rather than served. The last worker
// to return rings the doorbell, so that a draining loop notices at once.
func (s *Server) work(ctx context.Context) {
	defer func() {
		if s.workersLeft.Add(-1) == 0 {
			s.replies.ring()
		}
	}()
	var w batchWork
	for b := range s.jobs {
		s.queued.Add(-int64(len(b)))
		s.replies.putAll(s.serveBatch(ctx, b, &w))
		w.reset()
	}
}

// batchWork is a worker's scratch space for one batch, reused.
type batchWork struct {
	answers []protocol.Message
	synced  []bool // answers[i] holds only once the batch's writes are durable
	replies []reply
}

func (w *batchWork) reset() {
	clear(w.answers)
	clear(w.replies)
	w.answers, w.synced, w.replies = w.answers[:0], w.synced[:0], w.replies[:0]
}

// serveBatch answers the jobs of b. Stores commit without waiting for the
// disk, and one Sync of the latest commit makes them all durable before
// any is acknowledged: a batch pays one wait, and usually shares its fsync
// with the other workers' (storage.Store.Sync).
func (s *Server) serveBatch(ctx context.Context, b []job, w *batchWork) []reply {
	var last storage.Syncpoint
	for _, j := range b {
		var m protocol.Message
		var p storage.Syncpoint
		needsSync := false
		if ctx.Err() != nil {
			m = protocol.NewError(j.msg.RequestID, protocol.CodeUnavailable, "server shutting down")
		} else {
			if s.cfg.beforeJob != nil {
				s.cfg.beforeJob()
			}
			m, p, needsSync = s.serve(j.msg)
		}
		last = max(last, p)
		w.answers = append(w.answers, m)
		w.synced = append(w.synced, needsSync)
	}
	if err := s.store.Sync(last); err != nil {
		for i, j := range b {
			if w.synced[i] {
				w.answers[i] = s.storageError(j.msg, "store", err)
			}
		}
	}
	for i, j := range b {
		m := w.answers[i]
		s.mem.release(j.cost)
		m.ListID = j.msg.ListID
		c := cost(m)
		if !s.mem.take(c) {
			s.log.warn("memory-budget", "server: memory budget reached; a reply was replaced by an error", "list", j.msg.ListID, "type", m.Type)
			m = s.mem.refusal(j.msg, c)
			c = cost(m)
			s.mem.force(c)
		}
		w.replies = append(w.replies, reply{link: j.link, gen: j.gen, msg: s.stamp(m), cost: c})
	}
	return w.replies
}

// serve answers one Store, Fetch, HintedStore or Digest. A successful Store
// is committed but not yet durable: needsSync says its answer holds only
// once Sync(p) has returned nil.
func (s *Server) serve(m protocol.Message) (answer protocol.Message, p storage.Syncpoint, needsSync bool) {
	switch m.Type {
	case protocol.TypeDigest:
		return s.digest(m), 0, false
	case protocol.TypeStore:
		return s.storeList(m, false)
	case protocol.TypeStoreExisting:
		return s.storeList(m, true)
	case protocol.TypeFetch:
		return s.fetchList(m), 0, false
	case protocol.TypeHintedStore:
		return s.storeHinted(m), 0, false
	}
	// The loop queues nothing else.
	return protocol.NewError(m.RequestID, protocol.CodeInternal, fmt.Sprintf("%v reached a worker", m.Type)), 0, false
}

// storeList decodes the list, checks it and merges it into the store, if
// this server may keep it (admit.go); its acknowledgement, which says
// whether the list is new here (storeReply), holds once Sync(p) has
// returned (serveBatch waits for it). existing (a StoreExisting) stores
// only into a list the server holds, and answers NotFound for any other.
func (s *Server) storeList(m protocol.Message, existing bool) (answer protocol.Message, p storage.Syncpoint, needsSync bool) {
	l, refusal := s.checkList(m, m.Body)
	if l == nil {
		return refusal, 0, false
	}
	created := !s.holds(m.ListID)
	if existing && created {
		reply := protocol.NewError(m.RequestID, protocol.CodeNotFound,
			fmt.Sprintf("this server holds nothing of list %s, and the store may not create it", m.ListID))
		return reply, 0, false
	}
	_, p, err := s.store.SaveMergeIfUnsynced(l, func() error { return s.admitStore(m) })
	if err != nil {
		if reply, ok := s.notOwnerReply(m, err); ok {
			return reply, 0, false
		}
		return s.storageError(m, "store", err), 0, false
	}
	return storeReply(m, created), p, true
}

// holds reports whether the store holds anything of the list, from its
// in-memory index (no disk read). A store that creates a list tells the
// proxy so (storeReply); two concurrent first stores of one list may both
// say it, which is what they saw.
func (s *Server) holds(list uuid.UUID) bool { return s.store.Version(list) != 0 }

// storeReply acknowledges a durable store of m's list; created says the
// server held nothing of the list before it.
func storeReply(m protocol.Message, created bool) protocol.Message {
	if created {
		return protocol.NewStoreCreated(m.RequestID, m.ListID)
	}
	return protocol.NewStoreReply(m.RequestID, m.ListID)
}

// storeHinted serves a HintedStore: this server stands in for a down owner
// of the list (sloppy quorum). It checks the list as a Store, merges it
// into its store and records a durable hint naming the owner, in one
// atomic write, and acknowledges only once both are durable. A full hint
// store refuses with Unavailable, so the proxy does not count this server.
func (s *Server) storeHinted(m protocol.Message) protocol.Message {
	hb, err := protocol.DecodeHintBody(m.Body)
	if err != nil {
		s.log.warn("hint-undecodable", "server: refused an undecodable hinted store", "list", m.ListID, "err", err)
		return protocol.NewErrorFrom(m.RequestID, fmt.Errorf("hinted store body: %w", err))
	}
	if hb.Owner == s.id {
		s.log.warn("hint-for-self", "server: refused a hinted store naming this server as the owner", "list", m.ListID)
		return protocol.NewError(m.RequestID, protocol.CodeBadRequest,
			fmt.Sprintf("hinted store of list %s names this server (%s) as the owner; send it a Store", m.ListID, s.id))
	}
	l, refusal := s.checkList(m, hb.List)
	if l == nil {
		return refusal
	}
	created := !s.holds(m.ListID)
	if _, err := s.store.SaveHinted(l, hb.Owner); err != nil {
		if errors.Is(err, storage.ErrHintsFull) {
			s.log.error("hints-full", "server: hint store full; refusing hinted stores until hints are delivered", "list", m.ListID, "owner", hb.Owner, "hints", s.store.HintCount())
			return protocol.NewError(m.RequestID, protocol.CodeUnavailable, "hint store full: "+err.Error())
		}
		return s.storageError(m, "hinted store", err)
	}
	s.kickHandoff() // a new hint: its owner may already be back
	return storeReply(m, created)
}

// checkList decodes a list body carried by m and checks it: it decodes,
// its ID is the header's and it is not stamped too far in the future. It
// returns the list, or nil and the refusal to send.
func (s *Server) checkList(m protocol.Message, body []byte) (*crdt.List, protocol.Message) {
	l, err := crdt.Decode(body)
	if err != nil {
		s.log.warn("store-undecodable", "server: refused an undecodable list", "list", m.ListID, "err", err)
		return nil, protocol.NewErrorFrom(m.RequestID, fmt.Errorf("list body: %w", err))
	}
	if l.ID() != m.ListID {
		s.log.warn("store-id-mismatch", "server: refused a list under another list's ID", "header", m.ListID, "body", l.ID())
		return nil, protocol.NewError(m.RequestID, protocol.CodeInvalidList,
			fmt.Sprintf("the list body is list %s but the header names %s", l.ID(), m.ListID))
	}
	if err := s.checkSkew(l); err != nil {
		s.log.warn("store-clock-skew", "server: refused a list stamped in the future", "list", m.ListID, "err", err)
		return nil, protocol.NewError(m.RequestID, protocol.CodeClockSkew, err.Error())
	}
	return l, protocol.Message{}
}

// checkSkew refuses a list stamped more than MaxSkew ahead of the clock: one
// device with a clock far in the future would otherwise win every
// last-writer-wins register of the list until real time caught up.
func (s *Server) checkSkew(l *crdt.List) error {
	now := s.cfg.Now()
	// In milliseconds: a decoded stamp is at most crdt.MaxWall, so the
	// difference fits, where the same span in a time.Duration (nanoseconds)
	// would overflow past the year 2262.
	aheadMs := l.MaxStamp().Wall - now.UnixMilli()
	if aheadMs <= s.cfg.MaxSkew.Milliseconds() {
		return nil
	}
	ahead := "more than 100 years"
	if aheadMs < 100*365*24*time.Hour.Milliseconds() {
		ahead = (time.Duration(aheadMs) * time.Millisecond).String()
	}
	return fmt.Errorf("list %s has edits stamped %s ahead of this server's clock (%s); at most %v is accepted: the clock of the device that made them is wrong",
		l.ID(), ahead, now.UTC().Format(time.RFC3339), s.cfg.MaxSkew)
}

// storageError turns a store failure into an Error reply: Unavailable while
// shutting down, the protocol's code for a list over the item limit, and
// Internal (logged) for everything else, such as a corrupt replica.
func (s *Server) storageError(m protocol.Message, op string, err error) protocol.Message {
	if errors.Is(err, storage.ErrClosed) {
		return protocol.NewError(m.RequestID, protocol.CodeUnavailable, "server shutting down")
	}
	reply := protocol.NewErrorFrom(m.RequestID, fmt.Errorf("%s of list %s: %w", op, m.ListID, err))
	if !errors.Is(err, crdt.ErrTooLarge) {
		s.log.error(op+"-failed", "server: "+op+" failed", "list", m.ListID, "err", err)
	}
	return reply
}
