package server

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"shoplist/protocol"
)

// dispatch handles one message from a proxy, in the loop: cheap checks and
// control messages here, stores and fetches queued for the workers. Nothing
// here blocks or touches the disk.
func (l *loop) dispatch(lk *link, frames [][]byte, now time.Time) {
	m, err := protocol.Parse(frames)
	if err != nil {
		l.refuse(lk, frames, err, now)
		return
	}
	if m.Type != protocol.TypeBatch {
		l.handle(lk, m, now)
		return
	}
	msgs, err := protocol.Unbatch(m.Body)
	if err != nil {
		// Refused whole: the requests in it time out at the proxy.
		l.refuse(lk, frames, err, now)
		return
	}
	for _, inner := range msgs {
		l.handle(lk, inner, now)
	}
}

// handle handles one message from a proxy, alone or out of a Batch.
func (l *loop) handle(lk *link, m protocol.Message, now time.Time) {
	switch m.Type {
	case protocol.TypeHeartbeat:
		// Alive; readLink has noted it.
	case protocol.TypeServerWelcome:
		if lk.welcome(l.s.cfg) {
			l.dirty = true // no more hellos to poll for
			l.s.cfg.Logger.Info("welcomed by proxy", "server", l.s.id, "proxy", lk.endpoint, "epoch", m.Epoch)
			if l.s.cfg.onWelcome != nil {
				l.s.cfg.onWelcome(l.s.id, lk.endpoint, m.Epoch)
			}
			l.s.kickHandoff() // a (re)connection: deliver what is kept
		}
	case protocol.TypeStore, protocol.TypeStoreExisting, protocol.TypeFetch, protocol.TypeHintedStore, protocol.TypeDigest:
		l.enqueue(lk, m, now)
	case protocol.TypeStoreReply, protocol.TypeOK:
		l.handoffAnswered(lk, m, nil) // false: a stray reply, dropped
	case protocol.TypeEpochAnnounce:
		l.announce(lk, m, now)
	case protocol.TypeError:
		if eb, ok := m.Err().(protocol.ErrorBody); ok && eb.Code == protocol.CodeNotWelcomed && lk.forget() {
			// The proxy restarted and does not know this server, yet
			// answers it: the link is not silent, so only this tells the
			// server to say hello again.
			l.dirty = true // a hello to poll for
			l.s.cfg.Logger.Info("proxy no longer knows this server; saying hello again", "server", l.s.id, "proxy", lk.endpoint)
		}
		if l.handoffAnswered(lk, m, m.Err()) {
			return
		}
		// The answer to a hello (the proxy could not add the server to
		// its ring, say): hellos go on once per interval regardless.
		l.s.log.warn("proxy-error", "server: the proxy reported an error", "proxy", lk.endpoint, "err", m.Err())
	default:
		err := fmt.Errorf("%w: %v is not a message a storage server accepts", protocol.ErrMalformed, m.Type)
		l.refuseMessage(lk, m.Header, err, now)
	}
}

// enqueue hands a store, fetch or digest to the workers, unless it was
// routed under an epoch older than the server's, or every worker is busy
// and the queue is full: then it answers at once rather than wait. Stores
// and fetches wait in the turn's batch (flushBatch), so that one worker
// commits them together and syncs once for all.
func (l *loop) enqueue(lk *link, m protocol.Message, now time.Time) {
	if cur := l.s.epoch.Load(); m.Epoch != 0 && m.Epoch < cur {
		reply := protocol.NewError(m.RequestID, protocol.CodeStaleEpoch,
			fmt.Sprintf("routed under epoch %d; this server has adopted epoch %d", m.Epoch, cur))
		reply.ListID = m.ListID
		l.reply(lk, reply, now)
		return
	}
	if m.Type == protocol.TypeFetch {
		if _, _, err := fetchKnown(m); err != nil {
			l.refuseMessage(lk, m.Header, err, now)
			return
		}
		// Most fetches hit the cache of encodings, which never touches
		// the disk: answer those here and spare them the trip through a
		// worker and back (two goroutine switches and nine cgo calls).
		if answer, ok := l.s.cachedFetch(m); ok {
			l.reply(lk, answer, now)
			return
		}
	}
	c := cost(m)
	if !l.s.mem.take(c) {
		l.s.log.warn("memory-budget", "server: memory budget reached; refusing requests", "held", l.s.mem.used.Load(), "budget", l.s.mem.limit)
		l.reply(lk, l.s.mem.refusal(m, c), now)
		return
	}
	if queued := int(l.s.queued.Load()) + len(l.batch); queued >= l.s.cfg.Workers*queuePerWorker {
		l.s.mem.release(c)
		l.s.log.warn("overloaded", "server: overloaded; refusing requests", "queued", queued)
		reply := protocol.NewError(m.RequestID, protocol.CodeUnavailable,
			fmt.Sprintf("server overloaded: %d requests queued for %d workers", queued, l.s.cfg.Workers))
		reply.ListID = m.ListID
		l.reply(lk, reply, now)
		return
	}
	j := job{link: lk.index, gen: lk.gen, msg: m, cost: c}
	switch m.Type {
	case protocol.TypeStore, protocol.TypeStoreExisting, protocol.TypeFetch:
		l.batch = append(l.batch, j)
		if len(l.batch) == maxBatch {
			l.flushBatch()
		}
	default: // a Digest or a HintedStore: heavier, and synced on its own
		l.queue([]job{j})
	}
}

// maxBatch is the most requests one worker takes at once: enough to share
// a sync and a wake-up among many, few enough that a burst is spread over
// several workers (and cores).
const maxBatch = 32

// flushBatch hands the requests gathered in this turn of the loop to one
// worker.
func (l *loop) flushBatch() {
	if len(l.batch) == 0 {
		return
	}
	l.queue(l.batch)
	l.batch = make([]job, 0, maxBatch) // the worker owns the old one now
}

// queue hands b to a worker. enqueue has checked that the queue has room
// for b's requests, which bounds the batches queued below the channel's
// capacity; so the send cannot block.
func (l *loop) queue(b []job) {
	l.s.queued.Add(int64(len(b)))
	l.s.jobs <- b
}

// announce adopts a newer ring epoch. A request (nonzero ID) is answered OK,
// or StaleEpoch if the announced epoch is older than the server's.
func (l *loop) announce(lk *link, m protocol.Message, now time.Time) {
	b, err := protocol.DecodeEpochBody(m.Body)
	if err == nil && b.Epoch != m.Epoch {
		err = fmt.Errorf("%w: epoch body announces %d but the header says %d", protocol.ErrMalformed, b.Epoch, m.Epoch)
	}
	if err != nil {
		l.refuseMessage(lk, m.Header, err, now)
		return
	}
	cur := l.s.epoch.Load()
	if b.Epoch < cur {
		if m.RequestID != 0 {
			l.reply(lk, protocol.NewError(m.RequestID, protocol.CodeStaleEpoch,
				fmt.Sprintf("epoch %d is older than this server's epoch %d", b.Epoch, cur)), now)
		}
		return
	}
	if b.Epoch > cur {
		l.s.epoch.Store(b.Epoch) // only the loop writes it
		l.s.adoptRing(b)
		l.s.cfg.Logger.Info("adopted ring epoch", "server", l.s.id, "epoch", b.Epoch, "members", len(b.Members))
		l.s.kickHandoff() // owners may be back, or hints may now belong elsewhere
	}
	if m.RequestID != 0 {
		l.reply(lk, protocol.NewOK(m.RequestID, uuid.Nil), now)
	}
}

// refuse logs a message the server cannot or will not serve (once per kind
// and logEvery) and answers it with an Error carrying the request ID as far
// as it can be read, unless it is a reply or a notification, which nobody
// answers.
func (l *loop) refuse(lk *link, frames [][]byte, err error, now time.Time) {
	if len(frames) > 0 {
		if h, herr := protocol.ParseHeader(frames[0]); herr == nil {
			l.refuseMessage(lk, h, err, now)
			return
		}
	}
	l.logRefusal(lk, err)
	l.reply(lk, protocol.NewErrorFrom(protocol.RequestIDOf(frames), err), now)
}

// refuseMessage is refuse for a message whose header could be read.
func (l *loop) refuseMessage(lk *link, h protocol.Header, err error, now time.Time) {
	l.logRefusal(lk, err)
	if isRequest(h) {
		l.reply(lk, protocol.NewErrorFrom(h.RequestID, err), now)
	}
}

// logRefusal logs a refused message, once per kind and logEvery.
func (l *loop) logRefusal(lk *link, err error) {
	code := protocol.CodeOf(err)
	l.s.log.warn("refused-"+code.String(), "server: refused a message from the proxy", "proxy", lk.endpoint, "code", code, "err", err)
}

// isRequest reports whether a message with header h expects an answer.
func isRequest(h protocol.Header) bool {
	switch h.Type {
	case protocol.TypeWelcome, protocol.TypePullReply, protocol.TypeLiveUpdate, protocol.TypeOK,
		protocol.TypeError, protocol.TypeServerWelcome, protocol.TypeHeartbeat,
		protocol.TypeStoreReply, protocol.TypeFetchReply, protocol.TypeDigestReply, protocol.TypeServerReport:
		return false
	}
	return h.RequestID != 0 // EpochAnnounce with ID 0 is a notification
}

// reply sends an answer made by the loop itself.
func (l *loop) reply(lk *link, m protocol.Message, now time.Time) {
	l.answer(lk, l.s.stamp(m), now)
}
