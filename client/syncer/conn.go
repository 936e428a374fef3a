package syncer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	zmq "github.com/pebbe/zmq4"

	"shoplist/internal/curvekey"
	"shoplist/internal/dealer"
	"shoplist/internal/zmonitor"
	"shoplist/protocol"
)

// maxInbound caps a message part from the proxy (a header or a list body),
// beyond which ZeroMQ drops the connection without delivering it.
const maxInbound = protocol.MaxListSize + protocol.MaxHeaderSize + 1<<10

// conn is the loop's connection to a proxy: the DEALER, the SUB and their
// Lazy Pirate state. It belongs to the loop, like the rest of it.
//
// It is not a dealer.Conn, on purpose: a dealer.Conn waits for one reply at
// a time, while the loop keeps many requests in flight, polls the DEALER
// beside the SUB and the doorbell, and never blocks. From package dealer it
// takes the socket set-up (dealer.Dial), the request IDs (dealer.IDs) and
// the reading of a Welcome (dealer.Welcome); the matching of replies to
// requests is its calls map, since each kind of request is answered in its
// own way.
type conn struct {
	endpoints  []string // the configured endpoints, then those Welcomes listed
	configured int      // how many of endpoints were configured
	next       int      // index in endpoints of the one to try next

	state       ConnState
	endpoint    string      // in use, or being tried
	dealer      *zmq.Socket // nil while offline
	sub         *zmq.Socket // nil until a Welcome names the PUB endpoint
	subMon      *zmq.Socket // PAIR receiving sub's connection events (submonitor.go)
	subConnects int         // connections sub has made since it was opened
	pubEndpoint string      // what sub is connected to

	lastRecv time.Time // last message on the DEALER, or the connect time
	lastPing time.Time // when the last Hello went out
	helloID  uint64    // the Hello awaiting its Welcome, 0 if none
	backoff  time.Duration
	retryAt  time.Time // when to connect again, while dealer is nil

	ids   dealer.IDs       // one sequence for every connection: a stale reply matches nothing
	calls map[uint64]*call // requests awaiting a reply, by ID

	connErr error // why the last connection failed; nil while online
	skewErr error // the proxy's clock differs from ours too much
	bad     int   // malformed messages on this connection, to rate-limit the log
}

// init sets up a connection that has not connected yet.
func (c *conn) init(cfg Config) {
	c.endpoints = cfg.Endpoints
	c.configured = len(cfg.Endpoints)
	c.backoff = minBackoff
	c.calls = map[uint64]*call{}
	if !cfg.Offline {
		c.endpoint = c.endpoints[0]
	}
}

// tickConn connects when the back-off is over, gives up a silent proxy or
// one that let a request time out, and pings an idle one.
func (l *loop) tickConn() {
	if l.cfg.Offline {
		return
	}
	if l.dealer == nil {
		if !l.now.Before(l.retryAt) {
			l.connect()
		}
		return
	}
	if quiet := l.now.Sub(l.lastRecv); quiet >= liveness*l.cfg.Heartbeat {
		l.fail(fmt.Errorf("%w: %s silent for %v", ErrOffline, l.endpoint, quiet.Round(time.Millisecond)))
		return
	}
	for _, c := range l.calls {
		if !l.now.Before(c.deadline) {
			l.fail(fmt.Errorf("%w: %s did not answer a %v within %v", ErrOffline, l.endpoint, c.kind, l.cfg.Timeout))
			return
		}
	}
	if l.state == Online && l.helloID == 0 && !l.now.Before(l.pingDue()) {
		l.sendHello()
	}
}

// pingDue is when an online connection needs a Hello: after a heartbeat
// interval with nothing received and no Hello sent.
func (l *loop) pingDue() time.Time {
	last := l.lastRecv
	if l.lastPing.After(last) {
		last = l.lastPing
	}
	return last.Add(l.cfg.Heartbeat)
}

// connDeadline is the connection's next timer, if it has one.
func (l *loop) connDeadline() (time.Time, bool) {
	if l.cfg.Offline {
		return time.Time{}, false
	}
	if l.dealer == nil {
		return l.retryAt, true
	}
	next := l.lastRecv.Add(liveness * l.cfg.Heartbeat)
	if l.state == Online && l.helloID == 0 {
		next = earliest(next, l.pingDue())
	}
	for _, c := range l.calls {
		next = earliest(next, c.deadline)
	}
	return next, true
}

// connect opens a fresh DEALER to the next endpoint and says Hello. The
// Hello queues until the TCP connection is up; if no Welcome comes in time
// the connection fails like any other.
func (l *loop) connect() {
	ep := l.endpoints[l.next]
	l.endpoint = ep
	// No receive timeout: the loop receives only what its poller says is
	// there.
	sock, err := dealer.Dial(ep, dealer.Options{MaxMsgSize: maxInbound, Key: l.cfg.Key})
	if err != nil {
		l.connErr = fmt.Errorf("%w: %w", ErrOffline, err)
		l.log.Warn("cannot connect to proxy", "proxy", ep, "err", err)
		l.next = (l.next + 1) % len(l.endpoints)
		l.retryLater()
		return
	}
	l.dealer, l.state, l.pollerStale = sock, Connecting, true
	l.lastRecv, l.bad, l.helloID = l.now, 0, 0
	l.log.Debug("connecting", "proxy", ep)
	l.sendHello()
}

// sendHello sends a Hello: the greeting of a new connection, or a ping.
func (l *loop) sendHello() {
	if id, ok := l.request(&call{kind: callHello}, protocol.NewHello); ok {
		l.helloID, l.lastPing = id, l.now
	}
}

// onHelloReply handles the reply to a Hello: a Welcome, or the end of the
// connection.
func (l *loop) onHelloReply(m protocol.Message) {
	body, err := dealer.Welcome(m)
	switch {
	case err == nil:
		l.onWelcome(body)
	case m.Type == protocol.TypeError:
		l.fail(fmt.Errorf("%w: %s refused hello: %w", ErrOffline, l.endpoint, err))
	case m.Type != protocol.TypeWelcome:
		l.badMessage("hello reply", fmt.Errorf("%w: Hello answered by %v", protocol.ErrMalformed, m.Type))
		l.fail(fmt.Errorf("%w: %s answered hello with %v", ErrOffline, l.endpoint, m.Type))
	default:
		l.badMessage("welcome", err)
		l.fail(fmt.Errorf("%w: %s sent a bad welcome: %w", ErrOffline, l.endpoint, err))
	}
}

// onWelcome handles a Welcome: the first on a connection makes the engine
// online; every one updates the endpoints, the PUB endpoint and the clock
// check.
func (l *loop) onWelcome(body protocol.WelcomeBody) {
	l.learn(body.Endpoints)
	l.checkSkew(body.Now)
	if pinned(l.endpoint) && !pinned(body.PubEndpoint) {
		l.badMessage("welcome", fmt.Errorf("%w: PUB endpoint %s has no key", protocol.ErrMalformed, body.PubEndpoint))
		l.fail(fmt.Errorf("%w: %s named a PUB endpoint without its key", ErrOffline, l.endpoint))
		return
	}
	if l.sub == nil || body.PubEndpoint != l.pubEndpoint {
		if err := l.openSub(body.PubEndpoint); err != nil {
			l.fail(fmt.Errorf("%w: subscribing to %s: %w", ErrOffline, body.PubEndpoint, err))
			return
		}
	}
	if l.state == Connecting {
		l.goOnline()
	}
}

// goOnline starts a synchronisation of everything: subscribe to every list,
// pull every list, push every unpushed part.
func (l *loop) goOnline() {
	l.state, l.connErr, l.backoff = Online, nil, minBackoff
	l.log.Info("online", "proxy", l.endpoint, "pub", l.pubEndpoint, "lists", len(l.lists))
	ids := make([]uuid.UUID, 0, len(l.lists))
	for id, ls := range l.lists {
		ids = append(ids, id)
		ls.needPull, ls.needPush, ls.retryAt, ls.pulledNow = true, true, time.Time{}, false
	}
	l.announce(protocol.NewSubscribe, ids)
	l.nextRepull = l.now.Add(l.cfg.Repull)
}

// openSub replaces the SUB socket by one connected to ep and subscribed to
// every local list's topic. An ep of the form ENDPOINT#KEY is dialled over
// CURVE, pinning KEY, like the DEALER.
func (l *loop) openSub(ep string) error {
	l.closeSub()
	sock, err := zmq.NewSocket(zmq.SUB)
	if err != nil {
		return err
	}
	if err := firstErr(sock.SetLinger(0), sock.SetMaxmsgsize(maxInbound)); err != nil {
		sock.Close()
		return err
	}
	mon, err := zmonitor.Open(sock, "syncer-sub", zmq.EVENT_CONNECTED|zmq.EVENT_DISCONNECTED)
	if err != nil {
		sock.Close()
		return err
	}
	l.sub, l.subMon, l.subConnects, l.pubEndpoint, l.pollerStale = sock, mon, 0, ep, true
	for _, ls := range l.lists {
		l.subscribeTopic(ls)
	}
	// The topics are set first: the SUB sends them as soon as it connects.
	if err := dealer.Connect(sock, ep, l.cfg.Key); err != nil {
		l.closeSub()
		return err
	}
	return nil
}

// subscribeTopic sets the list's topic on the SUB socket, once.
func (l *loop) subscribeTopic(ls *list) {
	if l.sub == nil || ls.subscribed {
		return
	}
	if err := l.sub.SetSubscribe(string(ls.live.Topic())); err != nil {
		l.log.Warn("cannot subscribe", "list", ls.id, "err", err)
		return
	}
	ls.subscribed = true
}

// unsubscribeTopic removes the list's topic from the SUB socket.
func (l *loop) unsubscribeTopic(ls *list) {
	if l.sub == nil || !ls.subscribed {
		return
	}
	ls.subscribed = false
	if err := l.sub.SetUnsubscribe(string(ls.live.Topic())); err != nil {
		l.log.Warn("cannot unsubscribe", "list", ls.id, "err", err)
	}
}

// announce sends Subscribe (or Unsubscribe) messages for ids, in batches
// the protocol allows, while online.
func (l *loop) announce(build func(uint64, ...uuid.UUID) (protocol.Message, error), ids []uuid.UUID) {
	for len(ids) > 0 && l.state == Online {
		batch := ids[:min(len(ids), protocol.MaxSubscribeLists)]
		ids = ids[len(batch):]
		m, err := build(0, batch...)
		if err != nil {
			l.log.Warn("cannot announce subscriptions", "err", err)
			continue
		}
		l.request(&call{kind: callSubscribe}, func(id uint64) protocol.Message {
			m.RequestID = id
			return m
		})
	}
}

// learn adds the endpoints a Welcome lists after the known ones. A proxy
// reached over CURVE vouches for the keys of its group's proxies, as the
// cluster's nodes trust each other; an endpoint it lists without a key,
// or with a malformed one, is never dialled.
func (l *loop) learn(eps []string) {
	for _, ep := range eps {
		if ep == "" || len(l.endpoints) >= l.configured+protocol.MaxEndpoints {
			continue
		}
		if _, _, err := curvekey.SplitEndpoint(ep); err != nil || (pinned(l.endpoint) && !pinned(ep)) {
			l.badMessage("welcome", fmt.Errorf("%w: endpoint %q without a valid key", protocol.ErrMalformed, ep))
			continue
		}
		known := false
		for _, k := range l.endpoints {
			known = known || k == ep
		}
		if !known {
			l.endpoints = append(l.endpoints, ep)
			l.log.Info("learned proxy endpoint", "endpoint", ep)
		}
	}
}

// pinned reports whether ep carries the key of the proxy behind it.
func pinned(ep string) bool {
	_, key, err := curvekey.SplitEndpoint(ep)
	return err == nil && key != ""
}

// checkSkew compares the proxy's clock (Unix ms; 0 = not given) with ours.
func (l *loop) checkSkew(proxyMs uint64) {
	if proxyMs == 0 || proxyMs > math.MaxInt64 {
		return
	}
	d := l.now.Sub(time.UnixMilli(int64(proxyMs)))
	if d.Abs() <= maxSkew {
		l.skewErr = nil
		return
	}
	way := "ahead of"
	if d < 0 {
		way = "behind"
	}
	was := l.skewErr
	l.skewErr = fmt.Errorf("syncer: this computer's clock is %v %s the proxy's (%s): fix the clock, or the cluster will refuse its edits",
		d.Abs().Round(time.Second), way, l.endpoint)
	if was == nil {
		l.log.Warn("clock skew", "err", l.skewErr)
	}
}

// fail gives up the connection: it closes both sockets, puts every request
// in flight back to be sent again, and schedules the next attempt, on the
// next endpoint, after the back-off.
func (l *loop) fail(reason error) {
	if l.dealer == nil {
		return
	}
	l.closeSockets()
	for _, c := range l.calls {
		l.abandon(c)
	}
	clear(l.calls)
	l.state, l.connErr, l.helloID = Offline, reason, 0
	l.next = (l.next + 1) % len(l.endpoints)
	l.retryLater()
	l.log.Warn("proxy connection lost", "proxy", l.endpoint, "err", reason,
		"next", l.endpoints[l.next], "in", l.retryAt.Sub(l.now).Round(time.Millisecond))
}

// retryLater schedules the next connection after the back-off, jittered,
// which then doubles up to MaxBackoff.
func (l *loop) retryLater() {
	jitter := time.Duration(rand.Int64N(int64(l.backoff)/4 + 1))
	l.retryAt = l.now.Add(l.backoff - jitter)
	l.backoff = min(2*l.backoff, l.cfg.MaxBackoff)
}

// closeSockets closes the DEALER and the SUB, dropping whatever they queue.
func (l *loop) closeSockets() {
	if l.dealer != nil {
		l.dealer.Close() // linger 0
		l.dealer, l.pollerStale = nil, true
	}
	l.closeSub()
}

// closeSub closes the SUB; every list then needs its topic set again.
func (l *loop) closeSub() {
	if l.sub == nil {
		return
	}
	zmonitor.Close(l.sub, l.subMon)
	l.sub, l.subMon, l.pubEndpoint, l.pollerStale = nil, nil, "", true
	for _, ls := range l.lists {
		ls.subscribed = false
	}
}

// badMessage logs a message from the proxy that breaks the protocol, at
// most a few times per connection and then once per thousand.
func (l *loop) badMessage(what string, err error) {
	l.bad++
	if l.bad <= 5 || l.bad%1000 == 0 {
		l.log.Warn("bad message from proxy dropped", "proxy", l.endpoint, "what", what, "err", err, "count", l.bad)
	}
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
