package proxy

import (
	"slices"
	"strings"
	"testing"
	"time"

	"shoplist/hashring"
	"shoplist/protocol"
)

// recvAnnounce waits for an EpochAnnounce notification on s and decodes it.
func recvAnnounce(t *testing.T, s *fakeServer) protocol.EpochBody {
	t.Helper()
	m := s.recvType(protocol.TypeEpochAnnounce)
	b, err := protocol.DecodeEpochBody(m.Body)
	if err != nil {
		t.Fatalf("%s: announce body: %v", s.id, err)
	}
	if m.RequestID != 0 || b.Epoch != m.Epoch {
		t.Fatalf("%s: announce with request ID %d, body epoch %d, header epoch %d; want a notification of one epoch", s.id, m.RequestID, b.Epoch, m.Epoch)
	}
	return b
}

// members returns "id:State" for each member of an epoch body.
func memberList(b protocol.EpochBody) []string {
	var out []string
	for _, m := range b.Members {
		out = append(out, m.ID+":"+m.State.String())
	}
	return out
}

func TestEpochIsAnnouncedAfterWelcomeAndOnEveryChange(t *testing.T) {
	p := startProxy(t, nil)
	s1 := joinServer(t, p, "s1")
	b := recvAnnounce(t, s1)
	if b.Epoch != 1 || b.N != DefaultN || int(b.VNodes) != hashring.DefaultVNodes || !slices.Equal(memberList(b), []string{"s1:Up"}) {
		t.Fatalf("first announce %+v, want epoch 1, N %d, %d vnodes, s1 up", b, DefaultN, hashring.DefaultVNodes)
	}
	s2 := joinServer(t, p, "s2")
	for _, s := range []*fakeServer{s1, s2} {
		if b := recvAnnounce(t, s); b.Epoch != 2 || !slices.Equal(memberList(b), []string{"s1:Up", "s2:Up"}) {
			t.Fatalf("%s: announce %+v, want epoch 2 with s1 and s2 up", s.id, b)
		}
	}
	// A removed server hears nothing more; the others hear the new epoch.
	if err := p.Remove("s2"); err != nil {
		t.Fatal(err)
	}
	if b := recvAnnounce(t, s1); b.Epoch != 3 || !slices.Equal(memberList(b), []string{"s1:Up"}) {
		t.Fatalf("announce %+v after the removal, want epoch 3 with s1 alone", b)
	}
	s2.silent(50 * time.Millisecond)
}

func TestStaleMessagesGetTheEpochAnnouncedAtMostOncePerInterval(t *testing.T) {
	const hb = 300 * time.Millisecond
	p := startProxy(t, func(c *Config) { c.Heartbeat = hb })
	s1 := joinServer(t, p, "s1")
	recvAnnounce(t, s1)
	before := statusOf(t, p).Counters.Announced

	// A burst of heartbeats at epoch 0, then a report as a marker: once
	// the report shows, the proxy has seen the whole burst.
	start := time.Now()
	for range 100 {
		s1.heartbeat()
	}
	report, err := protocol.NewServerReport(0, protocol.ServerReportBody{Lists: 7})
	if err != nil {
		t.Fatal(err)
	}
	s1.send(report)
	waitFor(t, "the marker report", func() bool { return serverStatus(t, statusOf(t, p), "s1").Lists == 7 })
	elapsed := time.Since(start)
	sent := statusOf(t, p).Counters.Announced - before
	if limit := 1 + uint64(elapsed/hb); sent > limit {
		t.Fatalf("%d announcements for 100 stale heartbeats in %v, want at most %d (one per %v)", sent, elapsed, limit, hb)
	}

	// Once an interval has passed, a stale message gets the epoch again.
	deadline := time.Now().Add(testTimeout)
	for {
		s1.heartbeat()
		if frames, ok := s1.recvFrames(20 * time.Millisecond); ok {
			if m, err := protocol.Parse(frames); err == nil && m.Type == protocol.TypeEpochAnnounce {
				if m.Epoch != 1 {
					t.Fatalf("announced epoch %d, want 1", m.Epoch)
				}
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("a server sending stale heartbeats was never told the epoch again")
		}
	}
}

func TestANewerEpochFromAServerIsLogged(t *testing.T) {
	var logs syncBuffer
	p := startProxy(t, func(c *Config) { c.Logger = newTextLogger(&logs) })
	s1 := joinServer(t, p, "s1")
	s1.send(protocol.NewHeartbeat(9))
	waitForOutput(t, &logs, "server is at a newer ring epoch than this proxy")
	if !strings.Contains(logs.String(), "server_epoch=9") {
		t.Fatalf("log does not name the server's epoch:\n%s", logs.String())
	}
}

// TestStaleEpochRepliesCountAsFailedReplicas: when the proxy adopts no
// newer epoch before the request's deadline, the replicas that refused it
// as stale count as failed, and the client is told StaleEpoch: this proxy
// lags its group, and another may serve it (clients fail over on it).
func TestStaleEpochRepliesCountAsFailedReplicas(t *testing.T) {
	p := startProxy(t, nil)
	fakes := joinServers(t, p, 3)
	l, body := sampleList(t, "oats")
	c := newClient(t, p)
	c.send(protocol.NewPush(1, l.ID(), body))
	for i, id := range p.Owners(l.ID()) {
		st := fakes[id].recvType(protocol.TypeStore)
		if st.Epoch != 3 {
			t.Fatalf("store routed under epoch %d, want 3", st.Epoch)
		}
		if i == 0 {
			fakes[id].send(protocol.NewStoreReply(st.RequestID, l.ID()))
			continue
		}
		refusal := protocol.NewError(st.RequestID, protocol.CodeStaleEpoch, "routed under epoch 3; this server has adopted epoch 4")
		refusal.Epoch = 4
		fakes[id].send(refusal)
	}
	eb := c.recvType(protocol.TypeError).Err().(protocol.ErrorBody)
	if eb.Code != protocol.CodeStaleEpoch || !strings.Contains(eb.Message, "2 of 3 replicas route by a newer ring") ||
		!strings.Contains(eb.Message, "try another proxy") {
		t.Fatalf("error %v, want StaleEpoch naming the two replicas ahead of this proxy", eb)
	}
	if n := statusOf(t, p).Counters.StaleEpoch; n != 2 {
		t.Fatalf("StaleEpoch counter %d, want 2", n)
	}
}

func TestServerReportsAreRecordedAndProveLiveness(t *testing.T) {
	p := startProxy(t, func(c *Config) { c.Heartbeat = 100 * time.Millisecond })
	fakes := joinServers(t, p, 2)
	s1, s2 := fakes["s1"], fakes["s2"]
	report, err := protocol.NewServerReport(2, protocol.ServerReportBody{Lists: 3, Hints: 2, Moving: 1})
	if err != nil {
		t.Fatal(err)
	}
	s1.send(report)
	waitFor(t, "the report", func() bool { return serverStatus(t, statusOf(t, p), "s1").Reported })
	got := serverStatus(t, statusOf(t, p), "s1")
	if got.Lists != 3 || got.Hints != 2 || got.Moving != 1 || got.ReportEpoch != 2 || got.ReportedAt.IsZero() {
		t.Fatalf("recorded report %+v, want lists 3, hints 2, moving 1 at epoch 2", got)
	}
	if s2 := serverStatus(t, statusOf(t, p), "s2"); s2.Reported {
		t.Fatalf("s2 never reported, status says %+v", s2)
	}
	// s2 goes silent while s1 sends nothing but reports: s2 is marked
	// down, s1 stays up.
	s2.sock.Close()
	waitFor(t, "s2 down", func() bool {
		s1.send(report)
		return !serverStatus(t, statusOf(t, p), "s2").Up
	})
	if !serverStatus(t, statusOf(t, p), "s1").Up {
		t.Fatal("a server sending reports was marked down")
	}
	// A garbled report is not answered (it is a notification).
	s1.sendFrames(protocol.Header{Version: protocol.Version, Type: protocol.TypeServerReport}.Encode(), []byte{0x93, 0xc1, 0, 0})
	s1.silent(50 * time.Millisecond)
}

func TestWelcomeListsEveryProxyOfTheGroup(t *testing.T) {
	g := newGroupMembership("tcp://10.0.0.1:5555", "tcp://10.0.0.2:5555")
	p := startGroupProxy(t, g, nil)
	c := newClient(t, p)
	c.send(protocol.NewHello(1))
	w := c.recvType(protocol.TypeWelcome)
	b, err := protocol.DecodeWelcomeBody(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"tcp://10.0.0.1:5555", "tcp://10.0.0.2:5555", p.Endpoints().ClientEndpoint()}
	if !slices.Equal(b.Endpoints, want) {
		t.Fatalf("Welcome endpoints %v, want %v (the group's, this proxy's included)", b.Endpoints, want)
	}
}

func TestClientEndpointsStayWithinTheLimitAndKeepTheOwn(t *testing.T) {
	l := &loop{endpoints: Endpoints{Client: "tcp://127.0.0.1:1"}}
	for i := range protocol.MaxEndpoints + 5 {
		l.ring.view.Proxies = append(l.ring.view.Proxies, "tcp://10.0.0.1:"+string(rune('a'+i)))
	}
	eps := l.clientEndpoints()
	if len(eps) != protocol.MaxEndpoints || !slices.Contains(eps, "tcp://127.0.0.1:1") {
		t.Fatalf("%d endpoints %v, want %d with this proxy's", len(eps), eps, protocol.MaxEndpoints)
	}
	l.ring.view.Proxies = append(l.ring.view.Proxies, "tcp://127.0.0.1:1")
	eps = l.clientEndpoints()
	if len(eps) != protocol.MaxEndpoints || !slices.Contains(eps, "tcp://127.0.0.1:1") {
		t.Fatalf("%d endpoints %v, want %d with this proxy's", len(eps), eps, protocol.MaxEndpoints)
	}
	l.ring.view.Proxies = nil
	if eps := l.clientEndpoints(); !slices.Equal(eps, []string{"tcp://127.0.0.1:1"}) {
		t.Fatalf("without a group: %v, want this proxy's alone", eps)
	}
}

func TestWelcomeFollowsAProxyRecordedWithoutARingChange(t *testing.T) {
	g := newGroupMembership("tcp://10.0.0.1:5555")
	p := startGroupProxy(t, g, nil)
	c := newClient(t, p)
	// A proxy joining the group is recorded without a new epoch.
	g.mu.Lock()
	epoch := g.view.Epoch
	g.view.Proxies = []string{"tcp://10.0.0.1:5555", "tcp://10.0.0.3:5555"}
	g.mu.Unlock()
	g.ch <- struct{}{}
	want := []string{"tcp://10.0.0.1:5555", "tcp://10.0.0.3:5555", p.Endpoints().ClientEndpoint()}
	var got []string
	for i := uint64(1); ; i++ {
		c.send(protocol.NewHello(i))
		w := c.recvType(protocol.TypeWelcome)
		b, err := protocol.DecodeWelcomeBody(w.Body)
		if err != nil {
			t.Fatal(err)
		}
		got = b.Endpoints
		if slices.Equal(got, want) {
			if w.Epoch != epoch {
				t.Fatalf("Welcome epoch %d, want the unchanged %d", w.Epoch, epoch)
			}
			return
		}
		if i > 200 {
			t.Fatalf("Welcome endpoints %v, want %v", got, want)
		}
	}
}
