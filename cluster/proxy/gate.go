package proxy

import (
	"log/slog"
	"sync/atomic"
	"syscall"
	"time"

	zmq "github.com/pebbe/zmq4"

	"shoplist/cluster/placement"
	"shoplist/internal/curvekey"
)

// ZAP (ZeroMQ RFC 27): libzmq asks the handler bound at zapEndpoint in a
// socket's context whether to accept each CURVE handshake on it.
const (
	zapEndpoint = "inproc://zeromq.zap.01"
	zapVersion  = "1.0"
	// zapDomain names the backend's handshakes in the requests.
	zapDomain = "shoplist-backend"
	// clientDomain names the handshakes of the client ROUTER and the PUB.
	clientDomain = "shoplist-clients"
)

// gate is the proxy's ZAP handler. On the backend it accepts a storage
// server's handshake only if the server's CURVE public key is admitted in
// the membership's current view, and names the connection by that key (the
// ZAP user ID, which every message of the connection then carries as its
// "User-Id" property). On the client sockets it accepts any CURVE key:
// clients are not admitted, a list ID is their permission (see
// docs/ARCHITECTURE.md, "Threat model"); CURVE there keeps what they send
// secret and proves the proxy to them, and the key, carried the same way,
// names the client install. A revocation takes effect at the next handshake
// here, and at once in the loop, which checks each message's key. The
// gate's REP socket lives in the proxy's own ZeroMQ context, so each
// proxy of a process has its own handler; it belongs to the goroutine
// that runs run, which returns when that context is terminated. Were it
// to stop earlier, libzmq 4.3 would accept handshakes without asking
// (its default without ZMQ_ZAP_ENFORCE_DOMAIN, a draft option), but such
// connections carry no user ID, which no admission names: the loop
// refuses everything they send, so the backend fails closed.
type gate struct {
	sock    *zmq.Socket
	members placement.Membership
	log     *slog.Logger
	bad     badPeers // refusals, logged at a bounded rate (run's own)

	admitted, refused atomic.Uint64 // backend handshakes, for Status
}

// newGate binds the ZAP handler in zctx, before any CURVE socket of zctx
// binds: a CURVE server without a handler would accept every key.
func newGate(zctx *zmq.Context, members placement.Membership, log *slog.Logger) (*gate, error) {
	sock, err := zctx.NewSocket(zmq.REP)
	if err != nil {
		return nil, err
	}
	sock.SetLinger(0)
	if err := sock.Bind(zapEndpoint); err != nil {
		sock.Close()
		return nil, err
	}
	return &gate{sock: sock, members: members, log: log}, nil
}

// run answers ZAP requests until the context is terminated, then closes
// the socket.
func (g *gate) run() {
	defer g.sock.Close()
	for {
		req, err := g.sock.RecvMessageBytes(0)
		switch errno := zmq.AsErrno(err); {
		case err == nil:
		case errno == zmq.ETERM:
			return
		case errno == zmq.Errno(syscall.EINTR):
			continue
		default:
			g.log.Error("backend handshake check failed; no server can connect", "err", err)
			return
		}
		if _, err := g.sock.SendMessage(g.answer(req)...); err != nil && zmq.AsErrno(err) == zmq.ETERM {
			return
		}
	}
}

// answer returns the reply to one request: version, request ID, domain,
// address, identity, mechanism, then one credential for CURVE (the
// client's 32-byte public key). The reply is version, request ID, status
// code, status text, user ID and metadata: 200 with the key in Z85 as the
// user ID, or 400.
func (g *gate) answer(req [][]byte) []any {
	reply := func(status, text, user string) []any {
		return []any{zapVersion, req[1], status, text, user, ""}
	}
	if len(req) < 6 || string(req[0]) != zapVersion {
		if len(req) < 2 {
			req = [][]byte{nil, nil}
		}
		return reply("500", "unsupported ZAP request", "")
	}
	address := string(req[3])
	if string(req[2]) == clientDomain {
		// A client without CURVE never gets here: libzmq ends a handshake
		// whose mechanism is not the socket's before asking.
		if string(req[5]) != "CURVE" || len(req) != 7 || len(req[6]) != curvekey.Size {
			return reply("400", "CURVE only", "")
		}
		return reply("200", "OK", zmq.Z85encode(string(req[6])))
	}
	if string(req[5]) != "CURVE" || len(req) != 7 || len(req[6]) != curvekey.Size {
		g.refused.Add(1)
		g.bad.warn(g.log, time.Now(), "backend connection refused: not a CURVE handshake", "mechanism:"+address,
			"address", address, "mechanism", string(req[5]))
		return reply("400", "CURVE only", "")
	}
	key := zmq.Z85encode(string(req[6]))
	if _, ok := g.members.View().Admitted.ID(key); !ok {
		g.refused.Add(1)
		g.bad.warn(g.log, time.Now(), "backend connection refused: key not admitted (proxy admit --id SERVER_ID --key KEY admits a server)", key,
			"key", key, "address", address)
		return reply("400", "key not admitted", "")
	}
	g.admitted.Add(1)
	return reply("200", "OK", key)
}
