package server

import (
	"testing"
	"time"

	"shoplist/protocol"
)

// TestHelloUntilWelcomed: a server the proxy does not answer says hello
// again once per interval, on the same connection, until it is welcomed.
func TestHelloUntilWelcomed(t *testing.T) {
	p := newFakeProxy(t)
	s := startServer(t, p, func(c *Config) { c.Heartbeat = 100 * time.Millisecond; c.Liveness = 50 })
	_, first := p.expectHello()
	_, second := p.expectHello()
	if second.RequestID == first.RequestID {
		t.Fatalf("the second hello reuses request ID %d", first.RequestID)
	}
	if id := p.welcome(3); id != s.ID() {
		t.Fatalf("hello from %q, want %q", id, s.ID())
	}
	// Welcomed: from now on only heartbeats (which recv skips) and
	// replies come; a request is the next thing answered.
	p.mustStore("after the welcome")
}

// TestReconnectWhenProxySilent: a proxy that stops talking (no heartbeats,
// no requests) is given up after Liveness intervals; the server reconnects
// on its own and says hello again, and serves on the new connection.
func TestReconnectWhenProxySilent(t *testing.T) {
	p := newFakeProxy(t)
	s := startServer(t, p, func(c *Config) { c.Heartbeat = 100 * time.Millisecond })
	p.welcome(1)
	p.silent = true
	if id := p.welcome(1); id != s.ID() {
		t.Fatalf("after the silence, hello from %q, want %q", id, s.ID())
	}
	p.mustStore("on the new connection")
}

// TestReconnectAfterProxyRestart: the proxy goes away and a new one binds
// the same endpoint; the server finds the old one silent, reconnects, says
// hello to the new one carrying the epoch it adopted, and serves it.
func TestReconnectAfterProxyRestart(t *testing.T) {
	p := newFakeProxy(t)
	s := startServer(t, p, func(c *Config) { c.Heartbeat = 200 * time.Millisecond })
	p.welcome(1)
	announce, err := protocol.NewEpochAnnounce(p.id(), protocol.EpochBody{Epoch: 9, N: 1, VNodes: 1})
	must(t, err)
	if r := p.call(announce); r.Type != protocol.TypeOK {
		t.Fatalf("epoch announce: %v", r.Type)
	}
	first := p.server
	p.close()

	q := bindFakeProxy(t, p.endpoint, p.key) // the same proxy, restarted
	identity, hello := q.expectHello()
	body, err := protocol.DecodeServerHelloBody(hello.Body)
	must(t, err)
	if string(identity) == string(first) {
		t.Fatalf("the new connection has the old one's socket identity %q", identity)
	}
	if serverOf(t, identity) != s.ID() || body.ServerID != s.ID() || hello.Epoch != 9 {
		t.Fatalf("hello to the new proxy from %q naming %q at epoch %d; want %q at epoch 9", identity, body.ServerID, hello.Epoch, s.ID())
	}
	q.server = identity
	q.send(identity, protocol.NewServerWelcome(hello.RequestID, 9))
	q.mustStore("through the new proxy")
}

// TestBackoff: the wait before reconnecting starts at a quarter interval,
// doubles up to four intervals, is shortened by at most a quarter, and a
// welcome resets it.
func TestBackoff(t *testing.T) {
	cfg := Config{Heartbeat: time.Second}
	lk := &link{}
	now := time.Now()
	for i, want := range []time.Duration{250, 500, 1000, 2000, 4000, 4000} {
		want *= time.Millisecond
		lk.disconnect(cfg, now)
		if got := lk.retryAt.Sub(now); got > want || got < want*3/4 {
			t.Fatalf("reconnection %d waits %v, want %v less at most a quarter", i+1, got, want)
		}
	}
	lk.welcome(cfg)
	lk.disconnect(cfg, now)
	if got := lk.retryAt.Sub(now); got > 250*time.Millisecond {
		t.Fatalf("after a welcome the wait is %v, want 250ms at most", got)
	}
}

// TestNoReplyOnANewConnection: a request still being served when the
// server reconnects is not answered on the new connection, where its
// request ID would mean nothing (or another request) to the proxy.
func TestNoReplyOnANewConnection(t *testing.T) {
	started, release := make(chan struct{}, 1), make(chan struct{})
	p := newFakeProxy(t)
	startServer(t, p, func(c *Config) {
		c.Heartbeat = 100 * time.Millisecond
		c.Workers = 1
		c.beforeJob = func() {
			select {
			case started <- struct{}{}:
				<-release
			default: // only the first job waits
			}
		}
	})
	p.welcome(1)
	l := newList(t, time.Now, "milk")
	stale := p.storeMsg(l)
	p.send(p.server, stale)
	select {
	case <-started:
	case <-time.After(wait):
		t.Fatal("the worker never took the request")
	}
	p.silent = true // the server gives the proxy up and reconnects
	p.welcome(2)
	close(release)
	probe := protocol.NewFetch(stale.RequestID+1, 0, l.ID())
	if r := p.call(probe); r.Type != protocol.TypeFetchReply || itemsOf(t, r.Body) != "milk" {
		t.Fatalf("after the reconnection: %v for request %d", r.Type, r.RequestID)
	}
}
