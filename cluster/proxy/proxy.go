package proxy

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"
	zmq "github.com/pebbe/zmq4"

	"shoplist/cluster/placement"
	"shoplist/internal/curvekey"
	"shoplist/internal/doorbell"
)

// ErrClosed means the proxy has stopped.
var ErrClosed = errors.New("proxy: closed")

// Proxy is a running proxy: one goroutine owns its three sockets and runs
// the poll loop; the methods below talk to it through a command channel and
// a doorbell, never touching a socket.
type Proxy struct {
	endpoints Endpoints
	n         int
	members   placement.Membership
	cmds      chan command
	bell      *doorbell.Doorbell
	cancel    context.CancelFunc
	done      chan struct{} // closed when the loop and its helpers have returned
	wg        sync.WaitGroup
	view      atomic.Pointer[placement.View] // the loop's current view, for Owners
	err       error                          // the loop's exit error; read after done
}

// Endpoints are the addresses a proxy has bound, with wildcard hosts and
// ports resolved, as peers should dial them, and the public key that
// clients (ClientKey) and servers (BackendKey) pin: the proxy's one key,
// or empty for sockets without CURVE.
type Endpoints struct {
	Client     string `json:"client"`
	Pub        string `json:"pub"`
	Backend    string `json:"backend"`
	ClientKey  string `json:"client_key"`
	BackendKey string `json:"backend_key"`
}

// ClientEndpoint returns the client endpoint as clients are given it, with
// the key they pin: ENDPOINT#KEY (curvekey.JoinEndpoint), or the bare
// endpoint without CURVE. Welcomes and the proxies' table carry it so.
func (e Endpoints) ClientEndpoint() string { return joinKey(e.Client, e.ClientKey) }

// PubEndpoint returns the PUB endpoint as clients are given it, with the
// key they pin, like ClientEndpoint.
func (e Endpoints) PubEndpoint() string { return joinKey(e.Pub, e.ClientKey) }

func joinKey(endpoint, key string) string {
	if key == "" {
		return endpoint
	}
	return curvekey.JoinEndpoint(endpoint, key)
}

// ServerEndpoint returns the backend endpoint as storage servers are
// given it, with the key they pin: ENDPOINT#KEY (curvekey.JoinEndpoint),
// or the bare endpoint of an insecure backend.
func (e Endpoints) ServerEndpoint() string { return joinKey(e.Backend, e.BackendKey) }

// MemberStatus is a ring member as the proxy sees it: Up means it said
// hello and has not been silent for Liveness intervals.
type MemberStatus struct {
	ID string
	Up bool
}

// command is work the loop runs on behalf of another goroutine.
type command func(*loop)

// Start binds the proxy's sockets and starts its loop, which runs until ctx
// is cancelled or Close is called. It fails if the configuration breaks a
// rule (ErrConfig) or a socket cannot bind. The proxy's sockets and its
// ZAP handler (gate.go) live in a ZeroMQ context of its own,
// terminated when the proxy stops.
func Start(ctx context.Context, cfg Config) (*Proxy, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	zctx, err := zmq.NewContext()
	if err != nil {
		return nil, fmt.Errorf("proxy: ZeroMQ context: %w", err)
	}
	var g *gate
	if !cfg.InsecureBackend || !cfg.InsecureClients {
		if g, err = newGate(zctx, cfg.Membership, cfg.Logger); err != nil {
			return nil, errors.Join(fmt.Errorf("proxy: backend handshake handler: %w", err), zctx.Term())
		}
	}
	l, err := newLoop(cfg, zctx)
	if err == nil {
		l.gate = g
	}
	var bell *doorbell.Doorbell
	if err == nil {
		if bell, err = doorbell.New("proxy"); err != nil {
			l.sock.close()
		}
	}
	if err != nil {
		if g != nil {
			g.sock.Close()
		}
		return nil, errors.Join(err, zctx.Term())
	}
	ctx, cancel := context.WithCancel(ctx)
	p := &Proxy{
		endpoints: l.endpoints,
		n:         cfg.N,
		members:   cfg.Membership,
		cmds:      make(chan command, 16),
		bell:      bell,
		cancel:    cancel,
		done:      make(chan struct{}),
	}
	l.sock.bell = bell.Socket()
	l.link = proxyLink{cmds: p.cmds, wake: bell.Ring, wg: &p.wg, published: &p.view}
	v := l.ring.view
	p.view.Store(&v)

	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		bell.Run(ctx, cfg.Membership.Changes())
	}()
	go func() {
		defer p.wg.Done()
		defer cancel() // the loop failing stops the doorbell too
		p.err = l.run(ctx)
		// The loop has closed its sockets: terminating the context ends
		// the gate, whose socket is the last one in it.
		if err := zctx.Term(); err != nil {
			cfg.Logger.Warn("proxy: terminating its ZeroMQ context", "err", err)
		}
	}()
	if g != nil {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			g.run()
		}()
	}
	go func() {
		p.wg.Wait()
		close(p.done)
	}()
	cfg.Logger.Info("proxy started", "client", l.endpoints.ClientEndpoint(), "pub", l.endpoints.PubEndpoint(), "backend", l.endpoints.ServerEndpoint(),
		"n", cfg.N, "w", cfg.W, "r", cfg.R, "epoch", v.Epoch, "members", v.Ring.Len())
	if cfg.InsecureClients {
		cfg.Logger.Warn("the client sockets run without CURVE: list IDs cross the network in clear and clients cannot tell this proxy from another (for benchmarks only)")
	}
	if cfg.InsecureBackend {
		cfg.Logger.Warn("the backend runs without CURVE: any process may join the ring under any server ID (for benchmarks only)")
	}
	return p, nil
}

// Endpoints returns the addresses the proxy has bound.
func (p *Proxy) Endpoints() Endpoints { return p.endpoints }

// Owners returns the preference list of a list under the proxy's current
// ring: up to N distinct servers, the first the list's primary.
func (p *Proxy) Owners(list uuid.UUID) []string {
	v := p.view.Load()
	return v.Ring.Owners(list.String(), p.n)
}

// Members returns the ring's servers sorted by ID, each with whether the
// proxy currently considers it up.
func (p *Proxy) Members() []MemberStatus {
	var out []MemberStatus
	p.do(context.Background(), func(l *loop) { out = l.memberStatus() })
	return out
}

// Remove takes a server out of the ring at once. Its lists are not handed
// over (Decommission does that): their other replicas serve them, the next
// servers on the ring take its place for new writes, and anti-entropy
// restores the replica count.
func (p *Proxy) Remove(id string) error {
	select {
	case <-p.done:
		return ErrClosed
	default:
	}
	return p.members.Remove(context.Background(), id)
}

// Decommission removes a server from the ring gracefully: with a Leaver
// membership it marks the server leaving, so it hands every list it holds
// to the list's owners before the leader removes it; otherwise it removes
// it at once (its lists are then served by their other replicas). It
// returns once the change is decided; ErrNotMember if the server is not a
// member.
func (p *Proxy) Decommission(ctx context.Context, id string) error {
	select {
	case <-p.done:
		return ErrClosed
	default:
	}
	var err error
	if lv, ok := p.members.(placement.Leaver); ok {
		err = lv.Leave(ctx, id)
	} else {
		err = p.members.Remove(ctx, id)
	}
	if err != nil {
		return fmt.Errorf("proxy: decommissioning %s: %w", id, err)
	}
	return nil
}

// Done returns a channel closed when the proxy has stopped.
func (p *Proxy) Done() <-chan struct{} { return p.done }

// Close stops the loop, closes the sockets and waits for every goroutine of
// the proxy. It returns the error that stopped the loop, if any.
func (p *Proxy) Close() error {
	p.cancel()
	<-p.done
	return p.err
}

// do runs fn in the loop and waits for it; ErrClosed if the loop is gone.
func (p *Proxy) do(ctx context.Context, fn func(*loop)) error {
	ran := make(chan struct{})
	cmd := func(l *loop) {
		fn(l)
		close(ran)
	}
	select {
	case p.cmds <- cmd:
	case <-p.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	p.bell.Ring() // the loop may be parked in Poll
	select {
	case <-ran:
		return nil
	case <-p.done: // stopped before it took the command
		return ErrClosed
	}
}

// String describes the endpoints, for logs and the ready line:
// "client=… pub=… backend=…", each as its peers dial it, with the key
// they pin (ENDPOINT#KEY) under CURVE: one string to copy.
func (e Endpoints) String() string {
	return fmt.Sprintf("client=%s pub=%s backend=%s", e.ClientEndpoint(), e.PubEndpoint(), e.ServerEndpoint())
}
