package proxy

import (
	"context"
	"fmt"
	"time"

	zmq "github.com/pebbe/zmq4"

	"shoplist/protocol"
)

// peerTable is the storage servers the loop talks to.
type peerTable struct {
	byID      map[string]*peer // servers that said hello, by ID
	joining   map[string]bool  // servers whose Join is in progress
	nextSweep time.Time        // next liveness sweep
}

// peer is a storage server that has said hello on the backend socket.
type peer struct {
	id       string
	identity []byte    // the routing identity of its latest connection
	key      string    // the CURVE key it said hello with ("" without CURVE)
	lastSeen time.Time // last message from it (any message proves it alive)
	lastSent time.Time // last message to it (heartbeats fill silences)
	welcomed bool      // in the ring and welcomed: requests may be routed to it
	down     bool      // silent for Liveness intervals, or unroutable
	helloReq uint64    // request ID of a hello waiting for its Join, or 0

	announced time.Time // last EpochAnnounce sent to it (rate limit)
	ahead     uint64    // newest epoch ahead of the proxy's it was logged at
	report    report    // its latest ServerReport

	queue serverQueue // requests sent on its connection, not yet known received (queues.go)
	out   outbox      // requests for it gathered this turn (outbox.go)
}

// report is a server's latest ServerReport as the proxy received it.
type report struct {
	protocol.ServerReportBody
	epoch uint64    // the server's adopted epoch when it sent it
	at    time.Time // when it came; zero: no report yet
}

// usable reports whether requests may be routed to the server.
func (p *peer) usable() bool { return p.welcomed && !p.down }

// onBackend handles one message from a server, which came on a connection
// with key (admission.go).
func (l *loop) onBackend(frames [][]byte, key string) {
	identity := frames[0]
	id, admitted := l.senderID(identity, key)
	m, err := protocol.Parse(frames[1:])
	if err != nil {
		l.bad.report(l.log, l.now, "backend", identity, err)
		reqID := protocol.RequestIDOf(frames[1:])
		if c, ok := l.ops.calls[reqID]; ok && admitted && c.server == id {
			l.resolve(reqID, c, fmt.Sprintf("%s sent an unreadable reply (%v)", id, err), 0)
			return
		}
		l.sendRaw(identity, protocol.NewErrorFrom(reqID, err))
		return
	}
	if m.Type == protocol.TypeServerHello {
		l.onServerHello(identity, key, id, admitted, m)
		return
	}
	if !admitted {
		l.refuseUnadmitted(identity, m)
		return
	}
	pr := l.peers.byID[id]
	if pr == nil || !pr.welcomed {
		// A server the proxy does not know (it restarted, or the server
		// never said hello): heartbeats and stray replies are ignored,
		// requests refused; the server says hello once it notices.
		if m.RequestID != 0 && !isReply(m.Type) {
			l.sendRaw(identity, protocol.NewError(m.RequestID, protocol.CodeNotWelcomed, "unknown server: send ServerHello first"))
		}
		return
	}
	if pr.follow(identity) {
		l.connectionGone(pr) // it came back on another connection
	}
	if m.Type != protocol.TypeBatch {
		l.fromServer(pr, identity, m, len(frames[1])+len(frames[2]))
		return
	}
	msgs, err := protocol.Unbatch(m.Body)
	if err != nil {
		// Nothing in it can be trusted, not even its request IDs: the
		// calls it may have answered time out.
		l.bad.report(l.log, l.now, "backend", identity, err)
		return
	}
	for _, inner := range msgs {
		l.fromServer(pr, identity, inner, len(inner.Body)+protocol.MaxHeaderSize)
	}
}

// fromServer handles one message from a welcomed server, alone or out of
// a Batch; size is about what it took on the wire.
func (l *loop) fromServer(pr *peer, identity []byte, m protocol.Message, size int) {
	if m.RequestID != 0 && isReply(m.Type) {
		l.receivedBy(pr, m.RequestID)
	}
	l.alive(pr)
	l.checkEpoch(pr, m.Epoch)
	m, kept := l.aeAnswer(m)
	if reqs, ok := l.ae.Reply(l.now, pr.id, m, size); ok { // the coordinator's own calls (duties.go)
		l.sendAntiEntropy(reqs)
		l.aeSettle()
		return
	}
	l.mem.hold(&l.mem.ae, -kept) // not the coordinator's after all
	switch m.Type {
	case protocol.TypeHeartbeat, protocol.TypeOK:
	case protocol.TypeServerReport:
		l.onServerReport(pr, m)
	case protocol.TypeStoreReply, protocol.TypeFetchReply, protocol.TypeUnchanged, protocol.TypeError:
		l.onReply(pr, m)
	case protocol.TypeHandoff:
		l.onHandoff(pr, m)
	default:
		err := fmt.Errorf("%w: %v is not a message servers send to the proxy", protocol.ErrMalformed, m.Type)
		l.bad.report(l.log, l.now, "backend", identity, err)
		if m.RequestID != 0 {
			l.sendRaw(identity, protocol.NewErrorFrom(m.RequestID, err))
		}
	}
}

// isReply reports whether t answers a request.
func isReply(t protocol.Type) bool {
	switch t {
	case protocol.TypeStoreReply, protocol.TypeFetchReply, protocol.TypeUnchanged, protocol.TypeError, protocol.TypeOK,
		protocol.TypeDigestReply:
		return true
	}
	return false
}

// onServerHello registers a server, joining it to the ring if it is new.
// The hello came on a connection with key, identified as sender
// (admitted: under CURVE, whether key is admitted; see admission.go).
func (l *loop) onServerHello(identity []byte, key, sender string, admitted bool, m protocol.Message) {
	body, err := protocol.DecodeServerHelloBody(m.Body)
	if err == nil {
		err = l.checkHello(identity, body.ServerID, sender, admitted)
	}
	if err != nil {
		if protocol.CodeOf(err) == protocol.CodeNotAdmitted {
			l.stats.notAdmitted++
		}
		l.bad.report(l.log, l.now, "backend", identity, err)
		l.sendRaw(identity, protocol.NewErrorFrom(m.RequestID, err))
		return
	}
	id := body.ServerID
	pr := l.peers.byID[id]
	if pr == nil {
		pr = &peer{id: id}
		l.peers.byID[id] = pr
	}
	// A hello opens a server's life on a connection: what was queued on
	// an earlier one is gone with it (a new connection, or the same
	// identity taken over by a new socket).
	l.connectionGone(pr)
	if pr.welcomed {
		// A restarted server: what was sent to its previous life will not
		// be answered. Not welcomed while those calls fail, so a read
		// repair they trigger is not sent to it.
		pr.welcomed = false
		l.failCallsTo(id, "restarted")
	}
	pr.identity, pr.key = identity, key
	pr.lastSeen, pr.down = l.now, false
	if l.ring.view.Has(id) {
		l.welcome(pr, m.RequestID)
		return
	}
	pr.helloReq = m.RequestID
	l.startJoin(id)
}

// welcome answers a server's hello; from now on requests are routed to it.
func (l *loop) welcome(pr *peer, reqID uint64) {
	pr.helloReq = 0
	if err := l.send(pr, protocol.NewServerWelcome(reqID, l.ring.view.Epoch)); err != nil {
		return
	}
	pr.welcomed = true
	l.log.Info("server welcomed", "server", pr.id, "epoch", l.ring.view.Epoch, "members", l.ring.view.Ring.Len(),
		"leaving", l.ring.view.IsLeaving(pr.id))
	l.announce(pr)
}

// startJoin asks the membership to add the server, off the loop.
func (l *loop) startJoin(id string) {
	if l.peers.joining[id] {
		return
	}
	l.peers.joining[id] = true
	l.spawn(func(ctx context.Context) {
		err := l.ring.members.Join(ctx, id)
		l.post(ctx, func(l *loop) { l.joined(id, err) })
	})
}

// joined handles the end of a Join.
func (l *loop) joined(id string, err error) {
	delete(l.peers.joining, id)
	l.refreshView()
	pr := l.peers.byID[id]
	if err == nil || pr == nil || pr.helloReq == 0 {
		return
	}
	l.bad.report(l.log, l.now, "backend", pr.identity, fmt.Errorf("server could not join the ring: %w", err))
	l.sendRaw(pr.identity, protocol.NewError(pr.helloReq, protocol.CodeUnavailable, "joining the ring failed: "+err.Error()))
	pr.helloReq = 0
}

// onServerReport records a server's report of what it stores; a drained
// leaving server is then removed.
func (l *loop) onServerReport(pr *peer, m protocol.Message) {
	b, err := protocol.DecodeServerReportBody(m.Body)
	if err != nil {
		l.bad.report(l.log, l.now, "backend", pr.identity, err) // a notification: not answered
		return
	}
	l.stats.reports++
	pr.report = report{ServerReportBody: b, epoch: m.Epoch, at: l.now}
	if rm, ok := l.removals.Reported(l.now, pr.id, pr.forRemoval()); ok {
		l.startRemove(rm)
	}
}

// alive records a message from the server.
func (l *loop) alive(pr *peer) {
	pr.lastSeen = l.now
	if pr.down {
		pr.down = false
		l.log.Info("server is up again", "server", pr.id)
	}
}

// markDown stops routing to the server and fails what it owes.
func (l *loop) markDown(pr *peer, why string) {
	if pr.down {
		return
	}
	pr.down = true
	l.log.Warn("server is down", "server", pr.id, "why", why)
	l.failCallsTo(pr.id, "down ("+why+")")
}

// sweep marks silent servers down, heartbeats idle ones and forgets
// servers that said hello but never made it into the ring.
func (l *loop) sweep() {
	silence := l.cfg.Heartbeat * time.Duration(l.cfg.Liveness)
	for id, pr := range l.peers.byID {
		quiet := l.now.Sub(pr.lastSeen)
		if !pr.welcomed {
			if quiet > 10*silence && !l.peers.joining[id] {
				l.connectionGone(pr)
				delete(l.peers.byID, id)
			}
			continue
		}
		if quiet > silence {
			l.markDown(pr, fmt.Sprintf("silent for %v", quiet.Round(time.Millisecond)))
		}
		if l.now.Sub(pr.lastSent) >= l.cfg.Heartbeat {
			l.send(pr, protocol.NewHeartbeat(l.ring.view.Epoch))
		}
	}
	l.removeDead()
}

// send sends m to a registered server without blocking, after what its
// outbox holds, so that the server sees messages in the order the loop
// made them.
func (l *loop) send(pr *peer, m protocol.Message) error {
	l.flushTo(pr)
	return l.sendNow(pr, m)
}

// sendNow sends m to pr on the backend without blocking. A server the
// socket cannot route to (disconnected) is marked down at once.
func (l *loop) sendNow(pr *peer, m protocol.Message) error {
	_, err := l.sock.backend.SendMessageDontwait(pr.identity, m.Frames())
	switch {
	case err == nil:
		pr.lastSent = l.now
	case zmq.AsErrno(err) == zmq.EHOSTUNREACH:
		l.markDown(pr, "disconnected")
	}
	return err
}

// sendRaw answers an identity that is not (or not yet) a registered server.
func (l *loop) sendRaw(identity []byte, m protocol.Message) {
	l.sock.backend.SendMessageDontwait(identity, m.Frames())
}
