package proxy

import (
	"fmt"

	zmq "github.com/pebbe/zmq4"

	"shoplist/internal/curvekey"
	"shoplist/internal/dealer"
	"shoplist/protocol"
)

// relayHWM bounds the live updates queued toward one other proxy, in
// messages, as pubHWM does toward a subscriber (socketbounds.go): at most
// relayHWM × maxLiveBody bytes; beyond it they are dropped (that proxy's
// clients catch up by pulling).
const relayHWM = pubHWM

// relays carry live updates between the proxies of a group, so that a push
// acknowledged through one proxy reaches the subscribers of every proxy.
//
// A proxy that publishes a push it acknowledged also sends it, as a
// LiveUpdate, to the client socket of every other proxy of the group,
// through one DEALER per proxy (a CURVE client with this proxy's own key
// pair, pinning the other's key). A proxy publishes a LiveUpdate that
// arrives on its client socket only if the connection's key is the key of
// another proxy of the group, as its client endpoint in the group's table
// says; it never passes one on, so an update crosses one hop and no loop
// forms. Without CURVE on the client sockets no proxy can tell a proxy
// from a client: nothing is relayed then.
//
// The sockets and the table belong to the loop's goroutine. The DEALERs
// are never polled: nothing is sent back on them.
type relays struct {
	own   curvekey.Pair          // this proxy's key pair
	socks map[string]*zmq.Socket // by the other proxy's ENDPOINT#KEY
	keys  map[string]bool        // the other proxies' public keys
}

// syncRelays opens a DEALER to each other proxy of the view's table and
// closes those to proxies no longer in it.
func (l *loop) syncRelays(zctx *zmq.Context) {
	r := &l.relays
	if l.cfg.InsecureClients || l.cfg.CurveSecretKey == "" {
		return
	}
	own := l.endpoints.ClientEndpoint()
	want := map[string]string{} // endpoint → key
	for _, ep := range l.ring.view.Proxies {
		if _, key, err := curvekey.SplitEndpoint(ep); err == nil && key != "" && ep != own && key != r.own.Public {
			want[ep] = key
		}
	}
	for ep, s := range r.socks {
		if _, ok := want[ep]; !ok {
			s.Close()
			delete(r.socks, ep)
		}
	}
	r.keys = map[string]bool{}
	for ep, key := range want {
		r.keys[key] = true
		if r.socks[ep] != nil {
			continue
		}
		s, err := openRelay(zctx, ep, r.own)
		if err != nil {
			l.log.Warn("cannot relay live updates to a proxy", "proxy", ep, "err", err)
			continue
		}
		r.socks[ep] = s
		l.log.Info("relaying live updates to proxy", "proxy", ep)
	}
}

// openRelay returns a DEALER in zctx connected to ep, pinning its key.
func openRelay(zctx *zmq.Context, ep string, own curvekey.Pair) (*zmq.Socket, error) {
	s, err := zctx.NewSocket(zmq.DEALER)
	if err != nil {
		return nil, err
	}
	err = firstErr(s.SetLinger(0), s.SetSndhwm(relayHWM), s.SetImmediate(true))
	if err == nil {
		err = dealer.Connect(s, ep, own)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// relay sends an acknowledged push to every other proxy.
func (l *loop) relay(m protocol.Message) {
	for ep, s := range l.relays.socks {
		if _, err := s.SendMessageDontwait(m.Frames()); err != nil {
			l.log.Debug("live update not relayed", "proxy", ep, "list", m.ListID, "err", err)
			continue
		}
		l.stats.relayed++
	}
}

// onRelay publishes a live update another proxy relayed, if the connection
// it came on is that of a proxy of the group; a client gets BadRequest.
func (l *loop) onRelay(identity []byte, key string, m protocol.Message) {
	if key == "" || !l.relays.keys[key] {
		err := fmt.Errorf("%w: a LiveUpdate comes from a proxy of the group, not a client", protocol.ErrMalformed)
		l.bad.report(l.log, l.now, "client", identity, err)
		l.reply(identity, protocol.NewErrorFrom(m.RequestID, err))
		return
	}
	l.publishUpdate(m)
}

// closeRelays closes every relay DEALER.
func (r *relays) close() {
	for _, s := range r.socks {
		s.Close()
	}
	clear(r.socks)
}
