package admin

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"shoplist/cluster/groupca"
	"shoplist/cluster/membership"
)

// testTimeout bounds every wait; waits end as soon as their condition
// holds, so it only matters when a test fails.
const testTimeout = 15 * time.Second

// fastTimeouts elect a leader in tens of milliseconds on the in-memory
// transport.
var fastTimeouts = membership.Timeouts{
	Heartbeat:   50 * time.Millisecond,
	Election:    50 * time.Millisecond,
	LeaderLease: 50 * time.Millisecond,
	Commit:      5 * time.Millisecond,
}

// testLogger is quiet unless SHOPLIST_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("SHOPLIST_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond until it holds or testTimeout passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// testProxy is one proxy's membership as proxynode sets it up: a Node on
// an in-memory Raft transport, forwarding through the admin API, which it
// serves on a real loopback port.
type testProxy struct {
	id    string
	trans *raft.InmemTransport
	node  *membership.Node
	srv   *Server
	stop  func() // closes the server and the node, once
}

// group is a group's credentials: the founder's directory, a proxy's
// credentials and an operator's.
type group struct {
	dir      string
	node     *groupca.Credentials
	operator *groupca.Credentials
}

// newGroup founds a group's credentials in a temporary directory.
func newGroup(t *testing.T) *group {
	t.Helper()
	dir := groupca.DirIn(t.TempDir())
	node, err := groupca.Create(dir)
	must(t, err)
	op, err := groupca.Load(dir, groupca.RoleOperator)
	must(t, err)
	return &group{dir: dir, node: node, operator: op}
}

// startProxy starts a proxy of g; bootstrap makes it a single-voter group,
// otherwise it waits to be added.
func startProxy(t *testing.T, g *group, id string, bootstrap bool) *testProxy {
	t.Helper()
	return startProxyWith(t, g, id, bootstrap, nil)
}

// startProxyWith is startProxy with the node's Forwarder wrapped by wrap,
// if not nil.
func startProxyWith(t *testing.T, g *group, id string, bootstrap bool, wrap func(membership.Forwarder) membership.Forwarder) *testProxy {
	t.Helper()
	_, trans := raft.NewInmemTransport(raft.ServerAddress(id + "-raft"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	client := NewClient(g.node)
	fwd := NewForwarder(client)
	var nodeFwd membership.Forwarder = fwd
	if wrap != nil {
		nodeFwd = wrap(fwd)
	}
	node, err := membership.Open(membership.Config{
		ID: id, Transport: trans, N: 3, VNodes: 3, Timeouts: fastTimeouts,
		NoBootstrap: !bootstrap, Forwarder: nodeFwd, Logger: testLogger(),
	})
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	fwd.SetDirectory(node)
	srv, err := Serve(ln, node, g.node, Options{Client: client, Logger: testLogger()})
	if err != nil {
		ln.Close()
		node.Close()
		t.Fatal(err)
	}
	p := &testProxy{id: id, trans: trans, node: node, srv: srv}
	var once sync.Once
	p.stop = func() {
		once.Do(func() {
			if err := p.srv.Close(); err != nil {
				t.Errorf("closing %s's admin server: %v", id, err)
			}
			if err := p.node.Close(); err != nil {
				t.Errorf("closing %s's node: %v", id, err)
			}
		})
	}
	t.Cleanup(p.stop)
	return p
}

// record commits the proxy's addresses, numbered k for its client
// endpoint, and waits until they are committed.
func (p *testProxy) record(t *testing.T, k int) {
	t.Helper()
	must(t, p.node.SetSelf(membership.ProxyInfo{Raft: p.node.Addr(), Admin: p.srv.Addr(), Client: fmt.Sprintf("tcp://127.0.0.1:%d", 30000+k)}))
	eventually(t, p.id+"'s record committed", p.node.SelfCommitted)
}

// connect links the proxies' in-memory transports both ways.
func connect(ps ...*testProxy) {
	for _, a := range ps {
		for _, b := range ps {
			if a != b {
				a.trans.Connect(b.trans.LocalAddr(), b.trans)
			}
		}
	}
}

// cut disconnects dead from every proxy of others.
func cut(dead *testProxy, others ...*testProxy) {
	for _, o := range others {
		o.trans.Disconnect(dead.trans.LocalAddr())
	}
}

// leaderOf waits until exactly one of ps leads and all of them know it.
func leaderOf(t *testing.T, ps ...*testProxy) *testProxy {
	t.Helper()
	var leader *testProxy
	eventually(t, "a leader known to every proxy", func() bool {
		leader = nil
		for _, p := range ps {
			if p.node.IsLeader() {
				if leader != nil {
					return false
				}
				leader = p
			}
		}
		if leader == nil {
			return false
		}
		for _, p := range ps {
			if id, _ := p.node.Leader(); id != leader.id {
				return false
			}
		}
		return true
	})
	return leader
}

// voters returns how many voters p's Raft configuration has.
func voters(t *testing.T, p *testProxy) int {
	st, err := p.node.Status(testContext(t))
	if err != nil {
		return -1
	}
	return len(st.Voters)
}
