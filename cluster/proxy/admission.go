package proxy

import (
	"bytes"
	"fmt"

	zmq "github.com/pebbe/zmq4"

	"shoplist/protocol"
)

// Admission on the backend. Under CURVE the gate admits a connection only
// from a key admitted in the membership's view, and names the connection
// by that key; the loop then knows every message's sender by the key it
// came with, never by the routing identity the sender chose:
//
//   - a message's server ID is the one its key is admitted under in the
//     loop's current view (senderID); a key admitted no longer (revoked,
//     or the server admitted with another key since) sends nothing the
//     proxy acts on, and its requests are answered NotAdmitted;
//   - a ServerHello must name that ID (checkHello);
//   - when the view's admission changes, servers whose key it no longer
//     admits are dropped at once (dropRevoked): nothing more is routed to
//     them.
//
// The routing identity is only where replies go: the latest connection a
// server's messages came from.

// senderID returns the server ID of a backend message that came on a
// connection with key: under CURVE the ID the key is admitted under, and
// false if it is admitted no longer; with an insecure backend, the routing
// identity, which servers set to their ID.
func (l *loop) senderID(identity []byte, key string) (string, bool) {
	if l.cfg.InsecureBackend {
		return string(identity), true
	}
	if id, ok := l.ring.view.Admitted.ID(key); ok {
		return id, true
	}
	// The gate checks the membership's latest view, which the loop may
	// not have adopted yet: a key it just admitted is looked up again.
	l.refreshView()
	return l.ring.view.Admitted.ID(key)
}

// checkHello returns why a ServerHello naming server id, from a connection
// identified as sender (senderID), may not register, or nil.
func (l *loop) checkHello(identity []byte, id, sender string, admitted bool) error {
	switch {
	case l.cfg.InsecureBackend && id != sender:
		return fmt.Errorf("%w: hello names server %q but the socket identity is %q (set ZMQ_IDENTITY to the server ID)", protocol.ErrInvalidID, id, identity)
	case l.cfg.InsecureBackend:
		return nil
	case !admitted:
		return notAdmitted("this connection's key is not admitted (revoked, or the server was removed from the ring); proxy admit --id " + id + " --key KEY admits a server")
	case id != sender:
		return notAdmitted(fmt.Sprintf("this connection's key is admitted for server %s, not %s", sender, id))
	}
	return nil
}

// notAdmitted is the error a server whose key does not admit it is told.
func notAdmitted(why string) error {
	return protocol.ErrorBody{Code: protocol.CodeNotAdmitted, Message: why}
}

// refuseUnadmitted answers a message from a key no longer admitted: a
// request gets NotAdmitted, anything else is dropped; either is logged at
// a bounded rate.
func (l *loop) refuseUnadmitted(identity []byte, m protocol.Message) {
	l.stats.notAdmitted++
	err := notAdmitted("this connection's key is not admitted any more")
	l.bad.report(l.log, l.now, "backend", identity, err)
	if m.RequestID != 0 && !isReply(m.Type) {
		l.sendRaw(identity, protocol.NewErrorFrom(m.RequestID, err))
	}
}

// follow records the routing identity a server's latest message came
// from: replies go to its latest connection, as with ROUTER_HANDOVER. It
// reports whether the identity changed (the server has a new connection).
func (pr *peer) follow(identity []byte) bool {
	if bytes.Equal(pr.identity, identity) {
		return false
	}
	pr.identity = identity
	return true
}

// dropRevoked forgets every server whose key the current view no longer
// admits under its ID: its calls fail now, nothing more is routed to it,
// and it must say hello again, which only an admitted key can.
func (l *loop) dropRevoked() {
	if l.cfg.InsecureBackend {
		return
	}
	for id, pr := range l.peers.byID {
		if l.ring.view.Admitted.Admits(id, pr.key) {
			continue
		}
		delete(l.peers.byID, id)
		if pr.welcomed {
			l.failCallsTo(id, "admission revoked")
		}
		l.connectionGone(pr) // the gate refuses its connection
		l.log.Warn("server's admission revoked: its connection is refused", "server", id)
	}
}

// recvWithKey receives one message from a ROUTER without waiting: the
// routing identity and the message's frames, and the "User-Id" property
// of its first frame, which the gate set to the CURVE key of the
// connection ("" without CURVE). libzmq attaches a connection's
// properties to the frames it received, not to the identity frame the
// ROUTER adds.
func recvWithKey(s *zmq.Socket) (frames [][]byte, key string, err error) {
	identity, err := s.RecvBytes(zmq.DONTWAIT)
	if err != nil {
		return nil, "", err
	}
	frames = [][]byte{identity}
	for {
		more, err := s.GetRcvmore()
		if err != nil {
			return nil, "", err
		}
		if !more {
			return frames, key, nil
		}
		var part []byte
		if len(frames) == 1 {
			var props map[string]string
			part, props, err = s.RecvBytesWithMetadata(zmq.DONTWAIT, userIDProperty)
			key = props[userIDProperty]
		} else {
			part, err = s.RecvBytes(zmq.DONTWAIT)
		}
		if err != nil {
			return nil, "", err
		}
		frames = append(frames, part)
	}
}

// userIDProperty is the message property holding the user ID the ZAP
// handler gave the connection.
const userIDProperty = "User-Id"
