package proxy

import (
	"cmp"
	"fmt"
	"net"
	"strings"

	zmq "github.com/pebbe/zmq4"

	"shoplist/internal/curvekey"
	"shoplist/protocol"
)

// Socket limits. A peer whose message exceeds maxMsgClient (client socket)
// or maxMsgBackend (server socket) is disconnected by ZeroMQ before the
// proxy sees a byte of it: the largest legal message is a header plus a
// list body (clients) or a hint body (servers).
const (
	frameSlack    = 1 << 10
	maxMsgClient  = protocol.MaxHeaderSize + protocol.MaxListSize + frameSlack
	maxMsgBackend = protocol.MaxHeaderSize + protocol.MaxHintBodySize + frameSlack
	// backendHWM is the backend's send queue per server, in messages: deep
	// enough for a burst of fan-out, beyond which a send fails at once
	// (router-mandatory) and counts as that replica's failure.
	backendHWM = 100_000
)

// sockets are the loop's sockets. Each belongs to the loop's goroutine,
// which polls them all; no other goroutine touches one. All but the
// doorbell's are of the proxy's own ZeroMQ context, whose ZAP handler is
// the proxy's gate.
type sockets struct {
	client  *zmq.Socket // ROUTER for clients' DEALERs
	pub     *zmq.Socket // XPUB (manual) for live updates; its input is subscriptions
	backend *zmq.Socket // ROUTER for servers' DEALERs
	bell    *zmq.Socket // doorbell PULL end: other goroutines wake the loop
}

// close closes every socket, dropping what is queued.
func (s sockets) close() {
	for _, z := range []*zmq.Socket{s.client, s.pub, s.backend, s.bell} {
		if z != nil {
			z.SetLinger(0)
			z.Close()
		}
	}
}

// bindSockets creates and binds the client ROUTER, the PUB and the backend
// ROUTER in zctx, and resolves the endpoints peers should dial. The
// backend is a CURVE server with cfg's key unless cfg.InsecureBackend;
// zctx's ZAP handler must be bound first.
func bindSockets(cfg Config, zctx *zmq.Context) (sock sockets, eps Endpoints, err error) {
	var opened []*zmq.Socket
	fail := func(e error) (sockets, Endpoints, error) {
		for _, s := range opened {
			s.SetLinger(0)
			s.Close()
		}
		return sockets{}, Endpoints{}, e
	}
	open := func(t zmq.Type, endpoint string, setup func(*zmq.Socket) error) (*zmq.Socket, string, error) {
		s, err := zctx.NewSocket(t)
		if err != nil {
			return nil, "", err
		}
		opened = append(opened, s)
		s.SetLinger(0)
		if err := setup(s); err != nil {
			return nil, "", fmt.Errorf("proxy: configuring %s: %w", endpoint, err)
		}
		if err := s.Bind(endpoint); err != nil {
			return nil, "", fmt.Errorf("proxy: bind %s: %w", endpoint, err)
		}
		bound, err := s.GetLastEndpoint()
		if err != nil {
			return nil, "", fmt.Errorf("proxy: bind %s: %w", endpoint, err)
		}
		return s, dialable(bound, cfg.Advertise), nil
	}
	sock.client, eps.Client, err = open(zmq.ROUTER, cfg.ClientEndpoint, func(s *zmq.Socket) error {
		return firstErr(curveServer(s, cfg, clientDomain), s.SetMaxmsgsize(maxMsgClient), boundClientSocket(s)) // socketbounds.go
	})
	if err != nil {
		return fail(err)
	}
	// An XPUB in manual mode: subscriptions take effect only when the loop
	// applies them (subscriptions.go).
	sock.pub, eps.Pub, err = open(zmq.XPUB, cfg.PubEndpoint, func(s *zmq.Socket) error {
		return firstErr(curveServer(s, cfg, clientDomain), s.SetXpubManual(1), boundPubSocket(s)) // socketbounds.go
	})
	if err != nil {
		return fail(err)
	}
	sock.backend, eps.Backend, err = open(zmq.ROUTER, cfg.BackendEndpoint, func(s *zmq.Socket) error {
		return firstErr(
			curveServer(s, cfg, zapDomain),
			s.SetMaxmsgsize(maxMsgBackend),
			s.SetRouterMandatory(1), // unroutable sends fail instead of vanishing
			// A server reconnecting with the routing identity of its
			// socket takes it over. Servers name each socket with a
			// random part under CURVE, so no other server can guess one
			// to take; without CURVE the identity is the server ID.
			s.SetRouterHandover(true),
			s.SetSndhwm(backendHWM),
			s.SetRcvhwm(backendHWM),
		)
	})
	if err != nil {
		return fail(err)
	}
	if cfg.CurveSecretKey != "" {
		pair, err := curvekey.FromSecret(cfg.CurveSecretKey) // checked by withDefaults
		if err != nil {
			return fail(err)
		}
		if !cfg.InsecureBackend {
			eps.BackendKey = pair.Public
		}
		if !cfg.InsecureClients {
			eps.ClientKey = pair.Public
		}
	}
	return sock, eps, nil
}

// curveServer makes s a CURVE server with the proxy's secret key, whose
// handshakes the context's ZAP handler checks under domain, unless the
// sockets of that domain are insecure.
func curveServer(s *zmq.Socket, cfg Config, domain string) error {
	if (domain == zapDomain && cfg.InsecureBackend) || (domain == clientDomain && cfg.InsecureClients) {
		return nil
	}
	return firstErr(s.SetCurveServer(1), s.SetCurveSecretkey(cfg.CurveSecretKey), s.SetZapDomain(domain))
}

// dialable turns a bound endpoint into one a peer can connect to: a
// wildcard host becomes advertise, or the loopback address without one.
func dialable(endpoint, advertise string) string {
	rest, ok := strings.CutPrefix(endpoint, "tcp://")
	if !ok {
		return endpoint
	}
	host, port, err := net.SplitHostPort(rest)
	if err != nil {
		return endpoint
	}
	if host == "0.0.0.0" || host == "*" || host == "::" || host == "" {
		host = cmp.Or(advertise, "127.0.0.1")
	}
	return "tcp://" + net.JoinHostPort(host, port)
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
