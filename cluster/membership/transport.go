package membership

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

const (
	// maxPool and ioTimeout are the transport's connections kept per peer
	// and its I/O deadline.
	maxPool   = 3
	ioTimeout = 10 * time.Second
	// handshakeTimeout bounds the TLS handshake of a connection, so that
	// a peer that connects and says nothing holds nothing for long.
	handshakeTimeout = 10 * time.Second
)

// openTransport returns cfg.Transport, or Raft's network transport on a
// TLS stream layer listening on cfg.Bind.
func openTransport(cfg Config, logger hclog.Logger) (raft.Transport, error) {
	if cfg.Transport != nil {
		return cfg.Transport, nil
	}
	stream, err := listenTLS(cfg.Bind, cfg.Advertise, cfg.TLS)
	if err != nil {
		return nil, fmt.Errorf("membership: raft transport on %s: %w", cfg.Bind, err)
	}
	return raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  stream,
		MaxPool: maxPool,
		Timeout: ioTimeout,
		Logger:  logger,
	}), nil
}

// closeTransport closes t if it can be closed.
func closeTransport(t raft.Transport) error {
	if c, ok := t.(raft.WithClose); ok {
		if err := c.Close(); err != nil {
			return fmt.Errorf("membership: closing the raft transport: %w", err)
		}
	}
	return nil
}

// tlsStream is Raft's stream layer over TLS: it accepts and dials TCP
// connections and runs TLS on each with one configuration, which presents
// this proxy's certificate and verifies the peer's both ways (Config.TLS).
// A peer whose certificate the configuration refuses gets no further than
// the handshake.
type tlsStream struct {
	ln        net.Listener // TCP
	advertise net.Addr     // what peers dial: the bound address, or the advertised host with its port
	cfg       *tls.Config
}

var _ raft.StreamLayer = (*tlsStream)(nil)

// listenTLS listens on bind. The transport advertises the bound address,
// which must then be one peers can dial, or, bound on a wildcard, the
// advertise host with the bound port.
func listenTLS(bind, advertise string, cfg *tls.Config) (*tlsStream, error) {
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, err
	}
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		return nil, errors.Join(fmt.Errorf("%w: %s is not a TCP address", ErrConfig, ln.Addr()), ln.Close())
	}
	if advertise != "" && addr.IP.IsUnspecified() {
		return &tlsStream{ln: ln, advertise: advertisedAddr(net.JoinHostPort(advertise, strconv.Itoa(addr.Port))), cfg: cfg}, nil
	}
	if addr.IP == nil || addr.IP.IsUnspecified() {
		return nil, errors.Join(fmt.Errorf("%w: %s is not an address peers can reach (give one to advertise)", ErrConfig, ln.Addr()), ln.Close())
	}
	return &tlsStream{ln: ln, advertise: addr, cfg: cfg}, nil
}

// advertisedAddr is a TCP address peers dial, HOST:PORT as given.
type advertisedAddr string

func (a advertisedAddr) Network() string { return "tcp" }
func (a advertisedAddr) String() string  { return string(a) }

// Accept returns the next connection; its handshake runs on first use.
func (s *tlsStream) Accept() (net.Conn, error) {
	c, err := s.ln.Accept()
	if err != nil {
		return nil, err
	}
	return &acceptedConn{Conn: tls.Server(c, s.cfg)}, nil
}

// Close stops listening.
func (s *tlsStream) Close() error { return s.ln.Close() }

// Addr returns the address the transport advertises.
func (s *tlsStream) Addr() net.Addr { return s.advertise }

// Dial connects to a peer and completes the handshake within timeout.
func (s *tlsStream) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	if timeout <= 0 {
		timeout = handshakeTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	d := tls.Dialer{Config: s.cfg}
	return d.DialContext(ctx, "tcp", string(addr))
}

// acceptedConn is an accepted connection whose handshake runs, within
// handshakeTimeout, on its first read or write: on the goroutine Raft
// gives the connection, never on its accept loop, which a slow peer would
// otherwise hold up.
type acceptedConn struct {
	*tls.Conn
	once sync.Once
	err  error // the handshake's
}

func (c *acceptedConn) handshake() error {
	c.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
		defer cancel()
		if err := c.Conn.HandshakeContext(ctx); err != nil {
			c.err = fmt.Errorf("membership: refused a raft connection from %s: %w", c.RemoteAddr(), err)
		}
	})
	return c.err
}

func (c *acceptedConn) Read(p []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *acceptedConn) Write(p []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}
