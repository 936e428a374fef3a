package integration

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/cluster/membership"
	"shoplist/cluster/proxy"
	"shoplist/cluster/server"
	"shoplist/hashring"
	"shoplist/internal/curvekey"
	"shoplist/testing/testcluster"
)

// Liveness settings of every cluster in these tests: a dead server is
// noticed within 3 × 250ms, a lost request within 2s. Shorter heartbeats
// make a server starved of CPU (go test -race runs packages side by side on
// few cores) look dead.
const (
	testHeartbeat = 250 * time.Millisecond
	testTimeoutOp = 2 * time.Second
)

// inproc is a proxy and storage servers running in the test process on
// loopback ephemeral ports, with their data in temporary directories, each
// server admitted to the proxy's CURVE backend with its own key.
type inproc struct {
	t       *testing.T
	log     *slog.Logger
	reg     *membership.Registry // the proxy's membership: its ring and admissions
	proxy   *proxy.Proxy
	dirs    []string         // data directory of server i
	ids     []string         // ID of server i
	servers []*server.Server // server i, nil while stopped
}

// startInproc starts a proxy and n servers and waits until all are in the
// ring and up. Everything is closed when the test ends; the logs are shown
// if it failed.
func startInproc(t *testing.T, n int) *inproc { return startInprocWith(t, n, nil) }

// startInprocWith is startInproc with edit adjusting the proxy's Config.
func startInprocWith(t *testing.T, n int, edit func(*proxy.Config)) *inproc {
	t.Helper()
	h := &inproc{t: t, log: testLogger(t)}
	reg, err := membership.NewRegistry("", hashring.DefaultVNodes)
	must(t, err)
	key, err := curvekey.Generate()
	must(t, err)
	h.reg = reg
	cfg := proxy.Config{
		Membership:      reg,
		CurveSecretKey:  key.Secret,
		ClientEndpoint:  "tcp://127.0.0.1:*",
		PubEndpoint:     "tcp://127.0.0.1:*",
		BackendEndpoint: "tcp://127.0.0.1:*",
		Heartbeat:       testHeartbeat,
		Timeout:         testTimeoutOp,
		Logger:          h.log.With("role", "proxy"),
	}
	if edit != nil {
		edit(&cfg)
	}
	p, err := proxy.Start(context.Background(), cfg)
	must(t, err)
	h.proxy = p
	t.Cleanup(func() {
		for i := range h.servers {
			h.stop(i)
		}
		p.Close()
	})
	for i := range n {
		h.dirs = append(h.dirs, t.TempDir())
		h.ids = append(h.ids, fmt.Sprintf("s%d", i))
		h.servers = append(h.servers, nil)
		h.start(i, h.ids[i])
	}
	h.waitMembers(h.running(), nil)
	return h
}

// start starts server i in its directory with id ("" for the ID stored
// there), once its key is admitted.
func (h *inproc) start(i int, id string) *server.Server {
	h.t.Helper()
	key, err := server.LoadOrCreateKey(h.dirs[i])
	must(h.t, err)
	must(h.t, h.reg.Admit(context.Background(), h.ids[i], key.Public))
	s, err := server.Start(context.Background(), server.Config{
		Dir:       h.dirs[i],
		ID:        id,
		Proxies:   []string{h.proxy.Endpoints().ServerEndpoint()},
		Heartbeat: testHeartbeat,
		Logger:    h.log.With("role", "server", "dir", i),
	})
	must(h.t, err)
	h.servers[i] = s
	return s
}

// stop closes server i, if it runs.
func (h *inproc) stop(i int) {
	if s := h.servers[i]; s != nil {
		h.servers[i] = nil
		if err := s.Close(); err != nil {
			h.t.Errorf("closing server %d: %v", i, err)
		}
	}
}

// running returns the IDs of the running servers.
func (h *inproc) running() []string {
	var ids []string
	for _, s := range h.servers {
		if s != nil {
			ids = append(ids, s.ID())
		}
	}
	return ids
}

// index returns the index of the server with that ID.
func (h *inproc) index(id string) int {
	h.t.Helper()
	for i, s := range h.servers {
		if s != nil && s.ID() == id {
			return i
		}
	}
	h.t.Fatalf("no running server %s", id)
	return -1
}

// server returns the running server with that ID.
func (h *inproc) server(id string) *server.Server { return h.servers[h.index(id)] }

// client dials the proxy.
func (h *inproc) client() *client { return dial(h.t, h.proxy.Endpoints().ClientEndpoint()) }

// waitMembers waits until the proxy's ring holds every server of up, up,
// and every server of down, down.
func (h *inproc) waitMembers(up, down []string) {
	h.t.Helper()
	eventually(h.t, fmt.Sprintf("members %v up and %v down", up, down), func() bool {
		status := map[string]bool{}
		for _, m := range h.proxy.Members() {
			status[m.ID] = m.Up
		}
		for _, id := range up {
			if isUp, member := status[id]; !member || !isUp {
				return false
			}
		}
		for _, id := range down {
			if isUp, member := status[id]; !member || isUp {
				return false
			}
		}
		return true
	})
}

// has reports whether server id's store holds list.
func (h *inproc) has(id string, list uuid.UUID) bool {
	h.t.Helper()
	ok, err := h.server(id).Store().Has(list)
	must(h.t, err)
	return ok
}

// eventually waits, polling, until cond holds, and fails the test if it does
// not within testTimeout. For conditions that nothing announces (the proxy's
// view of its members, a store's content).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", testTimeout, what)
		}
		<-tick.C
	}
}

// testLogger returns a logger whose output is shown only if the test fails.
func testLogger(t *testing.T) *slog.Logger { return testcluster.FailureLogger(t) }
