package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"shoplist/cluster/membership"
	"shoplist/cluster/placement"
)

func TestProxiesJoinThroughAnyProxyAndOutliveTheLeader(t *testing.T) {
	ctx := testContext(t)
	g := newGroup(t)
	c := NewClient(g.node) // as a joining proxy calls
	p1 := startProxy(t, g, "p1", true)
	leaderOf(t, p1)
	p1.record(t, 1)
	p2, p3 := startProxy(t, g, "p2", false), startProxy(t, g, "p3", false)
	connect(p1, p2, p3)

	// p2 asks the leader; p3 asks p2, a follower, which passes the request
	// on to the leader's admin API.
	must(t, c.AddProxy(ctx, p1.srv.Addr(), "p2", p2.node.Addr()))
	leaderOf(t, p1, p2)
	eventually(t, "p2 to learn the leader's admin address", func() bool {
		_, ok := p2.node.AdminAddr(p1.node.Addr())
		return ok
	})
	must(t, c.AddProxy(ctx, p2.srv.Addr(), "p3", p3.node.Addr()))
	eventually(t, "three voters seen by every proxy", func() bool {
		return voters(t, p1) == 3 && voters(t, p2) == 3 && voters(t, p3) == 3
	})
	// Adding a voter twice changes nothing. p3 passes it on to the leader
	// once it has applied the leader's record.
	eventually(t, "p3 to learn the leader's admin address", func() bool {
		_, ok := p3.node.AdminAddr(p1.node.Addr())
		return ok
	})
	must(t, c.AddProxy(ctx, p3.srv.Addr(), "p3", p3.node.Addr()))
	if n := voters(t, p1); n != 3 {
		t.Fatalf("%d voters after p3 was added again", n)
	}
	// The followers record their addresses through the leader.
	p2.record(t, 2)
	p3.record(t, 3)
	eventually(t, "every proxy's record on every proxy", func() bool {
		return len(p1.node.Proxies()) == 3 && len(p2.node.Proxies()) == 3 && len(p3.node.Proxies()) == 3
	})

	// A server's join reaches the leader from a follower over HTTP.
	must(t, p3.node.Join(ctx, "s1"))
	if !p1.node.View().Has("s1") {
		t.Fatal("Join through p3 returned before the leader applied it")
	}
	// Refusals come back through HTTP as the same sentinels.
	if err := p3.node.Remove(ctx, "s9"); !errors.Is(err, placement.ErrNotMember) {
		t.Fatalf("Remove of a non-member through a follower: %v, want ErrNotMember", err)
	}
	if err := p2.node.Leave(ctx, "s9"); !errors.Is(err, placement.ErrNotMember) {
		t.Fatalf("Leave of a non-member through a follower: %v, want ErrNotMember", err)
	}
	must(t, p2.node.Remove(ctx, "s1"))
	eventually(t, "p3 to apply the removal", func() bool { return !p3.node.View().Has("s1") })
	if err := p3.node.Join(ctx, "s1"); !errors.Is(err, placement.ErrRemoved) {
		t.Fatalf("Join of a removed server through a follower: %v, want ErrRemoved", err)
	}

	// The leader dies; the other two elect one of themselves, and changes
	// through the remaining follower reach the new leader.
	p1.stop()
	cut(p1, p2, p3)
	leader := leaderOf(t, p2, p3)
	follower := p2
	if leader == p2 {
		follower = p3
	}
	must(t, follower.node.Join(ctx, "s2"))
	eventually(t, "s2 on both survivors at one epoch", func() bool {
		v2, v3 := p2.node.View(), p3.node.View()
		return v2.Has("s2") && v3.Has("s2") && v2.Epoch == v3.Epoch
	})
	// A new proxy joins through the follower after the failover.
	p4 := startProxy(t, g, "p4", false)
	connect(p2, p3, p4)
	must(t, c.AddProxy(ctx, follower.srv.Addr(), "p4", p4.node.Addr()))
	eventually(t, "p4 to receive the ring", func() bool { return p4.node.View().Has("s2") })
	p4.record(t, 4)
	if err := p4.node.Join(ctx, "s3"); err != nil {
		t.Fatalf("Join through the new proxy: %v", err)
	}
	if !leader.node.View().Has("s3") {
		t.Fatal("the leader does not have s3")
	}
}

func TestForwarderReportsTheLeadersStateAsSentinels(t *testing.T) {
	ctx := testContext(t)
	g := newGroup(t)
	dir := mapDirectory{}
	f := NewForwarder(NewClient(g.node))
	if err := f.Forward(ctx, "leader-raft", []byte{0x90}); !errors.Is(err, membership.ErrNoLeader) {
		t.Fatalf("without a directory: %v, want ErrNoLeader", err)
	}
	f.SetDirectory(dir)
	if err := f.Forward(ctx, "leader-raft", []byte{0x90}); !errors.Is(err, membership.ErrNoLeader) {
		t.Fatalf("leader without a recorded admin address: %v, want ErrNoLeader", err)
	}

	// Nothing listens: nothing was sent, so the change can be tried again.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	dir["leader-raft"] = ln.Addr().String()
	must(t, ln.Close())
	if err := f.Forward(ctx, "leader-raft", []byte{0x90}); !errors.Is(err, membership.ErrNoLeader) {
		t.Fatalf("leader's admin address refusing connections: %v, want ErrNoLeader", err)
	}

	// The request went out and the connection broke: the outcome is
	// unknown.
	hang := tlsServer(t, g, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer hang.Close()
	dir["leader-raft"] = hang.Listener.Addr().String()
	err = f.Forward(ctx, "leader-raft", []byte{0x90})
	if !errors.Is(err, membership.ErrUndecided) || errors.Is(err, membership.ErrNoLeader) {
		t.Fatalf("connection lost after the request: %v, want ErrUndecided only", err)
	}

	// Answers with codes: each comes back as its sentinel; a closing
	// leader counts as no leader.
	for code, want := range map[string]error{
		"not_leader": membership.ErrNotLeader,
		"removed":    placement.ErrRemoved,
		"not_member": placement.ErrNotMember,
		"closed":     membership.ErrNoLeader,
		"timeout":    membership.ErrUndecided,
		"full":       membership.ErrFull,
	} {
		srv := tlsServer(t, g, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusConflict, errorBody{Error: "refused: " + code, Code: code})
		}))
		dir["leader-raft"] = srv.Listener.Addr().String()
		err := f.Forward(ctx, "leader-raft", []byte{0x90})
		srv.Close()
		if !errors.Is(err, want) {
			t.Errorf("code %s: %v, want %v", code, err, want)
		}
	}
	if err := f.Forward(canceled(), "leader-raft", []byte{0x90}); err == nil || errors.Is(err, membership.ErrNoLeader) {
		t.Fatalf("cancelled context: %v, want its error and no retry", err)
	}

	// A "leader" of another group, or one that does not speak TLS: the
	// handshake fails, nothing reaches a handler, and the change can be
	// tried again.
	reached := make(chan struct{}, 2)
	record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached <- struct{}{} })
	other := tlsServer(t, newGroup(t), record)
	plain := httptest.NewServer(record)
	defer plain.Close()
	for what, addr := range map[string]string{"another group": other.Listener.Addr().String(), "plain HTTP": plain.Listener.Addr().String()} {
		dir["leader-raft"] = addr
		err := f.Forward(ctx, "leader-raft", []byte{0x90})
		if !errors.Is(err, membership.ErrNoLeader) || errors.Is(err, membership.ErrUndecided) {
			t.Errorf("%s: %v, want ErrNoLeader only", what, err)
		}
	}
	if len(reached) != 0 {
		t.Fatalf("%d forwarded changes reached a handler past a failed handshake", len(reached))
	}
}

// tlsServer starts an HTTPS server with g's proxy credentials, as Serve
// does, and closes it at the end of the test.
func tlsServer(t *testing.T, g *group, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes
	srv.TLS = g.node.ServerConfig()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// mapDirectory is a Directory in a map.
type mapDirectory map[string]string

func (d mapDirectory) AdminAddr(raftAddr string) (string, bool) {
	a, ok := d[raftAddr]
	return a, ok
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func TestErrorCodesRoundTrip(t *testing.T) {
	for _, c := range errorCodes {
		code, status := codeOf(c.err)
		if code != c.code || status != c.status {
			t.Errorf("%v: code %s status %d, want %s %d", c.err, code, status, c.code, c.status)
		}
		remote := &RemoteError{Code: code, Message: c.err.Error()}
		if !errors.Is(remote, c.err) {
			t.Errorf("code %s does not map back to %v", code, c.err)
		}
	}
	if code, status := codeOf(errors.New("boom")); code != "internal" || status != http.StatusInternalServerError {
		t.Errorf("an unknown error: %s %d", code, status)
	}
	// A wrapped error finds its code.
	if code, _ := codeOf(fmt.Errorf("membership: join s1: %w", placement.ErrRemoved)); code != "removed" {
		t.Errorf("a wrapped ErrRemoved: code %s", code)
	}
	seen := map[string]bool{}
	for _, c := range errorCodes {
		if seen[c.code] {
			t.Errorf("code %s listed twice", c.code)
		}
		seen[c.code] = true
	}
}
