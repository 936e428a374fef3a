package integration

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	zmq "github.com/pebbe/zmq4"

	"shoplist/cluster/proxy"
	"shoplist/cluster/server"
	"shoplist/internal/curvekey"
	"shoplist/protocol"
	"shoplist/testing/testcluster"
)

// Admission: the proxy's backend takes a storage server only with a key
// the membership admits, and only under the ID bound to that key. Each
// test runs honest servers holding lists, sends in a rogue, and checks
// that the rogue is refused while the honest servers keep their place in
// the ring and exactly the lists they held.

// seeded starts n honest servers and pushes lists until every one of
// them is on all of its owners, so that their stores no longer change.
func seeded(t *testing.T, n, lists int) (*inproc, []*replica) {
	t.Helper()
	h := startInproc(t, n)
	c := h.client()
	var rs []*replica
	for i := range lists {
		rs = append(rs, pushNew(t, c, fmt.Sprintf("list %d", i)))
	}
	for _, r := range rs {
		for _, id := range ownersOf(h.running(), r.id()) {
			eventually(t, fmt.Sprintf("%s on owner %s", r.id(), id), func() bool { return h.has(id, r.id()) })
		}
	}
	return h, rs
}

// listCounts returns how many lists each running server stores.
func (h *inproc) listCounts() map[string]int {
	h.t.Helper()
	out := map[string]int{}
	for _, s := range h.servers {
		if s != nil {
			ids, err := s.Store().IDs()
			must(h.t, err)
			out[s.ID()] = len(ids)
		}
	}
	return out
}

// counters returns the proxy's counters.
func (h *inproc) counters() proxy.Counters {
	h.t.Helper()
	st, err := h.proxy.Status(context.Background())
	must(h.t, err)
	return st.Counters
}

// unchanged checks that the honest servers are all members, up, under
// epoch, and hold exactly the lists they held (before), and that every
// list can still be read and written.
func (h *inproc) unchanged(epoch uint64, before map[string]int, lists []*replica) {
	h.t.Helper()
	h.waitMembers(h.running(), nil)
	if len(h.proxy.Members()) != len(before) {
		h.t.Fatalf("members %v, want the %d honest servers only", h.proxy.Members(), len(before))
	}
	st, err := h.proxy.Status(context.Background())
	must(h.t, err)
	if st.Epoch != epoch {
		h.t.Fatalf("the ring moved to epoch %d from %d", st.Epoch, epoch)
	}
	if got := h.listCounts(); !maps.Equal(got, before) {
		h.t.Fatalf("list counts %v, were %v", got, before)
	}
	c := h.client()
	for _, r := range lists {
		if _, err := c.pull(r.id()); err != nil {
			h.t.Fatalf("pull of %s: %v", r.id(), err)
		}
	}
	pushNew(h.t, c, "after the rogue")
}

// impostor is a real storage server run by its command line in the test
// process, whose output the test reads.
type impostor struct {
	dir            string
	stdout, stderr *testcluster.FailureLog
	stop           func()
}

// runImpostor runs `server --data DIR --id id` against h's proxy, with a
// key of its own in a fresh directory; admitAs, if not empty, admits that
// key under another ID first.
func runImpostor(t *testing.T, h *inproc, id, admitAs string) *impostor {
	t.Helper()
	im := &impostor{dir: t.TempDir(), stdout: &testcluster.FailureLog{}, stderr: &testcluster.FailureLog{}}
	if admitAs != "" {
		key, err := server.LoadOrCreateKey(im.dir)
		must(t, err)
		must(t, h.reg.Admit(context.Background(), admitAs, key.Public))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	args := []string{"--data", im.dir, "--id", id, "--proxy", h.proxy.Endpoints().ServerEndpoint(), "--heartbeat", testHeartbeat.String()}
	go func() { done <- server.Main(ctx, args, im.stdout, im.stderr) }()
	var once atomic.Bool
	im.stop = func() {
		if once.CompareAndSwap(false, true) {
			cancel()
			<-done
		}
	}
	t.Cleanup(im.stop)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("impostor's stdout:\n%s\nstderr:\n%s", im.stdout, im.stderr)
		}
	})
	return im
}

// neverWelcomed stops the impostor and checks that no proxy welcomed it.
func (im *impostor) neverWelcomed(t *testing.T) {
	t.Helper()
	im.stop()
	if strings.Contains(im.stdout.String(), "server ready") {
		t.Fatalf("the impostor was welcomed: %s", im.stdout)
	}
}

func TestARogueWithAKeyNotAdmittedIsRefusedAtTheHandshake(t *testing.T) {
	t.Parallel()
	h, lists := seeded(t, 5, 30)
	before, refused := h.listCounts(), h.counters().HandshakesRefused
	st, err := h.proxy.Status(context.Background())
	must(t, err)

	// A raw socket with a key of its own, claiming s0's ID (and what was
	// its routing identity before CURVE): its handshake fails, so its
	// hello and its Store never arrive and nothing comes back.
	rogue := newSocket(t, zmq.DEALER)
	must(t, rogue.SetIdentity("s0"))
	pair, err := curvekey.Generate()
	must(t, err)
	must(t, curveClient(rogue, h.proxy.Endpoints().BackendKey, pair))
	must(t, rogue.Monitor("inproc://integration-rogue", zmq.EVENT_HANDSHAKE_SUCCEEDED|zmq.EVENT_HANDSHAKE_FAILED_AUTH))
	mon := newSocket(t, zmq.PAIR)
	must(t, mon.Connect("inproc://integration-rogue"))
	must(t, rogue.Connect(h.proxy.Endpoints().Backend))
	hello, err := protocol.NewServerHello(1, 0, "s0")
	must(t, err)
	_, err = rogue.SendMessage(hello.Frames())
	must(t, err)
	_, err = rogue.SendMessage(protocol.NewStore(2, st.Epoch, lists[0].id(), newReplica(t, "forged").state()).Frames())
	must(t, err)
	must(t, mon.SetRcvtimeo(testTimeout))
	if ev, _, status, err := mon.RecvEvent(0); err != nil || ev != zmq.EVENT_HANDSHAKE_FAILED_AUTH || status != 400 {
		t.Fatalf("the rogue's handshake: %v (status %d), %v; want EVENT_HANDSHAKE_FAILED_AUTH 400", ev, status, err)
	}

	// A real server reusing s0's ID with its own key: refused the same
	// way, so it is never welcomed, and says why.
	im := runImpostor(t, h, "s0", "")
	eventually(t, "the impostor refused and saying so", func() bool {
		return h.counters().HandshakesRefused >= refused+2 && strings.Contains(im.stderr.String(), "refuses this server's key")
	})
	im.neverWelcomed(t)
	poller := zmq.NewPoller()
	poller.Add(rogue, zmq.POLLIN)
	if polled, err := poller.Poll(0); err != nil || len(polled) != 0 {
		t.Fatalf("the rogue received something (%v)", err)
	}
	h.unchanged(st.Epoch, before, lists)
}

func TestAKeyAdmittedForOneServerCannotSpeakForAnother(t *testing.T) {
	t.Parallel()
	h, lists := seeded(t, 5, 30)
	before, notAdmitted := h.listCounts(), h.counters().NotAdmitted
	st, err := h.proxy.Status(context.Background())
	must(t, err)
	// Its key is admitted as s9; it claims to be s0, an honest server.
	im := runImpostor(t, h, "s0", "s9")
	eventually(t, "the impostor's hellos refused", func() bool {
		return h.counters().NotAdmitted >= notAdmitted+2 && strings.Contains(im.stderr.String(), "admitted for server s9, not s0")
	})
	im.neverWelcomed(t)
	h.unchanged(st.Epoch, before, lists)
}

func TestAnAdmittedServerJoinsAndARevokedOneIsCutOff(t *testing.T) {
	t.Parallel()
	h, lists := seeded(t, 3, 30)
	// A fourth server, admitted (start admits its key), joins and
	// receives the lists it now owns.
	h.dirs = append(h.dirs, t.TempDir())
	h.ids = append(h.ids, "s3")
	h.servers = append(h.servers, nil)
	h.start(3, "s3")
	h.waitMembers([]string{"s0", "s1", "s2", "s3"}, nil)
	owned := 0
	for _, r := range lists {
		if !slices.Contains(ownersOf(h.running(), r.id()), "s3") {
			continue
		}
		owned++
		eventually(t, fmt.Sprintf("%s moved to s3", r.id()), func() bool { return h.has("s3", r.id()) })
	}
	if owned == 0 {
		t.Fatal("s3 owns none of the lists: the test proves nothing")
	}

	// Revoked, it is cut off at once: down for the proxy, which writes
	// around it, and refused at the handshake when it reconnects.
	refused := h.counters().HandshakesRefused
	must(t, h.reg.Revoke(context.Background(), "s3"))
	h.waitMembers([]string{"s0", "s1", "s2"}, []string{"s3"})
	c := h.client()
	for _, r := range lists {
		delta, err := r.add("after the revocation", 1)
		must(t, err)
		must(t, c.push(r.id(), delta))
	}
	eventually(t, "s3 refused at the handshake", func() bool { return h.counters().HandshakesRefused > refused })
	for _, m := range h.proxy.Members() {
		if m.ID == "s3" && m.Up {
			t.Fatal("s3 is up again after its revocation")
		}
	}
	// Writes routed around it: s3 holds no edit made after it was cut off.
	for _, r := range lists {
		if !h.has("s3", r.id()) {
			continue
		}
		l, err := h.server("s3").Store().Load(r.id())
		must(t, err)
		if slices.Contains(l.ItemKeys(), "after the revocation") {
			t.Fatalf("s3 received a write to %s after its revocation", r.id())
		}
	}
}
