package proxy

import (
	"fmt"
	"slices"

	"shoplist/protocol"
)

// onClient handles one message from a client (or, a LiveUpdate, from
// another proxy: relay.go), whose connection has CURVE key key ("" without
// CURVE).
func (l *loop) onClient(frames [][]byte, key string) {
	identity := frames[0]
	acct := l.heardFrom(identity)
	if key != "" {
		acct.user = key
	}
	m, err := protocol.Parse(frames[1:])
	if err != nil {
		l.bad.report(l.log, l.now, "client", identity, err)
		l.reply(identity, protocol.NewErrorFrom(protocol.RequestIDOf(frames[1:]), err))
		return
	}
	switch m.Type {
	case protocol.TypeHello:
		l.onHello(identity, m)
	case protocol.TypePush, protocol.TypePull:
		l.onListRequest(identity, acct, m)
	case protocol.TypeLiveUpdate:
		l.onRelay(identity, key, m)
	case protocol.TypeSubscribe, protocol.TypeUnsubscribe:
		// The SUB socket's own filter does the work; the message declares
		// interest and is checked like any other.
		if _, err := protocol.DecodeSubscribeBody(m.Body); err != nil {
			l.bad.report(l.log, l.now, "client", identity, err)
			l.reply(identity, protocol.NewErrorFrom(m.RequestID, err))
			return
		}
		l.reply(identity, protocol.NewOK(m.RequestID, m.ListID))
	default:
		err := fmt.Errorf("%w: %v is not a client request", protocol.ErrMalformed, m.Type)
		l.bad.report(l.log, l.now, "client", identity, err)
		l.reply(identity, protocol.NewErrorFrom(m.RequestID, err))
	}
}

// onHello answers a client's Hello with where to subscribe and the client
// endpoints of every proxy of the group, for failover.
func (l *loop) onHello(identity []byte, m protocol.Message) {
	body := protocol.WelcomeBody{
		PubEndpoint: l.endpoints.PubEndpoint(),
		Endpoints:   l.clientEndpoints(),
		Now:         uint64(l.now.UnixMilli()),
	}
	w, err := protocol.NewWelcome(m.RequestID, l.ring.view.Epoch, body)
	if err != nil && len(body.Endpoints) > 1 { // a bad endpoint in the group's table
		l.log.Warn("proxy endpoints do not fit a Welcome; sending this proxy's alone", "endpoints", body.Endpoints, "err", err)
		body.Endpoints = []string{l.endpoints.ClientEndpoint()}
		w, err = protocol.NewWelcome(m.RequestID, l.ring.view.Epoch, body)
	}
	if err != nil {
		w = protocol.NewErrorFrom(m.RequestID, err)
	}
	l.reply(identity, w)
}

// clientEndpoints returns the client endpoints a Welcome lists: the view's
// proxies, in their order, with this proxy's own always among them (it may
// not be registered yet), at most protocol.MaxEndpoints.
func (l *loop) clientEndpoints() []string {
	own := l.endpoints.ClientEndpoint()
	eps := make([]string, 0, len(l.ring.view.Proxies)+1)
	for _, e := range l.ring.view.Proxies {
		if e != "" && !slices.Contains(eps, e) {
			eps = append(eps, e)
		}
	}
	if !slices.Contains(eps, own) {
		if len(eps) >= protocol.MaxEndpoints {
			eps = eps[:protocol.MaxEndpoints-1]
		}
		eps = append(eps, own)
	}
	if len(eps) > protocol.MaxEndpoints {
		i := slices.Index(eps, own)
		eps = append(slices.Delete(eps, i, i+1)[:protocol.MaxEndpoints-1], own)
	}
	return eps
}

// onListRequest starts a push or a pull on the list's preference list,
// once the memory budget admits the bytes it is expected to hold
// (budget.go). A push from a client past its cap on new lists goes as a
// StoreExisting, to the owners only (newlists.go).
func (l *loop) onListRequest(identity []byte, acct *account, m protocol.Message) {
	if l.ops.active >= l.cfg.MaxInFlight {
		l.stats.failed++
		l.reply(identity, protocol.NewError(m.RequestID, protocol.CodeUnavailable,
			fmt.Sprintf("proxy overloaded: %d requests in progress; retry later", l.ops.active)))
		return
	}
	var known *uint64 // a Pull's PullBody: the state the client holds
	if m.Type == protocol.TypePull && len(m.Body) > 0 {
		b, err := protocol.DecodePullBody(m.Body)
		if err != nil {
			l.bad.report(l.log, l.now, "client", identity, err)
			l.reply(identity, protocol.NewErrorFrom(m.RequestID, err))
			return
		}
		known = &b.Known
	}
	expect := expectPull(l.mem.sizeOf(m.ListID), l.cfg.N)
	if m.Type == protocol.TypePush {
		expect = expectPush(m.Body, l.cfg.N)
	}
	if refusal := l.mem.admit(acct, expect, m.RequestID); refusal != nil {
		l.stats.failed++
		l.reply(identity, *refusal)
		return
	}
	o := &op{
		identity: identity,
		reqID:    m.RequestID,
		list:     m.ListID,
		deadline: l.now.Add(l.cfg.Timeout),
		acct:     acct,
	}
	// Sloppy quorum: an owner that is down is stood in for by the next
	// usable server clockwise (route), which a push reaches with a
	// HintedStore naming the owner and a pull with a Fetch (a fallback
	// serves what it keeps for the owner from its ordinary store).
	owners := l.ring.view.Ring.Owners(m.ListID.String(), l.cfg.N)
	epoch := l.ring.view.Epoch
	l.ops.active++
	if m.Type == protocol.TypePush {
		l.stats.pushes++
		l.ops.writing[m.ListID]++
		o.kind, o.need, o.body = opPush, l.cfg.W, m.Body
		l.reserve(o, msgBytes(m)) // its copies toward the servers count as they are sent
		if key := newListOwner(acct, identity); l.newLists.begin(key, l.now) {
			o.newListKey = key
		} else {
			// No new list for this client now: the push goes only where
			// the list is held, and no fallback holds it.
			o.existingOnly = true
			l.start(o, l.route(o, owners, false), func(id uint64, _ target) (protocol.Message, error) {
				return protocol.NewStoreExisting(id, epoch, m.ListID, m.Body), nil
			})
			return
		}
		l.start(o, l.route(o, owners, true), func(id uint64, t target) (protocol.Message, error) {
			if t.forOwn == "" {
				return protocol.NewStore(id, epoch, m.ListID, m.Body), nil
			}
			l.stats.hinted++
			return protocol.NewHintedStore(id, epoch, m.ListID, t.forOwn, m.Body)
		})
		return
	}
	l.stats.pulls++
	l.reserve(o, expect)
	o.kind, o.need, o.known = opPull, l.cfg.R, known
	l.startFetches(o, true)
}

// publish sends an acknowledged push to the list's subscribers on this
// proxy and, through the other proxies (relay.go), on theirs.
func (l *loop) publish(o *op) {
	if len(o.body) > maxLiveBody {
		l.stats.liveTooLarge++
		return
	}
	m := protocol.NewLiveUpdate(o.list, o.body)
	l.publishUpdate(m)
	l.relay(m)
}

// publishUpdate sends a live update to the list's subscribers, sealed with
// the list's key under its derived topic, so that the PUB socket shows no
// list ID and no list to anyone who does not hold the ID. PUB never
// blocks: a subscriber that cannot keep up loses updates and catches up by
// pulling. A state larger than maxLiveBody is neither published nor
// relayed (its subscribers pull it): what a subscriber's queue may hold is
// bounded by pubHWM such updates (socketbounds.go).
func (l *loop) publishUpdate(m protocol.Message) {
	if len(m.Body) > maxLiveBody {
		l.stats.liveTooLarge++
		return
	}
	frames, err := l.liveKeys.Get(m.ListID).Seal(m)
	if err != nil { // the push was checked on arrival: not expected
		l.log.Warn("live update not sealed", "list", m.ListID, "err", err)
		return
	}
	if _, err := l.sock.pub.SendMessageDontwait(frames); err != nil {
		l.log.Debug("live update not published", "list", m.ListID, "err", err)
		return
	}
	l.stats.published++
}
