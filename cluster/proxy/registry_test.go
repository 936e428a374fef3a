package proxy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/protocol"
)

func TestRegistryKeepsTheRingAcrossRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "members.json")
	r, err := NewRegistry(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, id := range []string{"b", "a", "c", "a"} {
		if err := r.Join(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Remove(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if err := r.Remove(ctx, "zz"); !errors.Is(err, ErrNotMember) {
		t.Fatalf("removing a stranger: %v", err)
	}
	before := r.View()
	if before.Epoch != 4 { // three joins and one removal changed it
		t.Fatalf("epoch %d, want 4", before.Epoch)
	}
	again, err := NewRegistry(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	after := again.View()
	if after.Epoch != before.Epoch || after.Ring.String() != before.Ring.String() {
		t.Fatalf("reloaded epoch %d ring\n%s\nwant epoch %d ring\n%s", after.Epoch, after.Ring, before.Epoch, before.Ring)
	}
	if _, err := NewRegistry(path, 8); !errors.Is(err, ErrConfig) {
		t.Fatalf("vnodes mismatch: %v", err)
	}
	os.WriteFile(path, []byte("{not json"), 0o644)
	if _, err := NewRegistry(path, 3); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("damaged file: %v", err)
	}
}

func TestRegistrySignalsChanges(t *testing.T) {
	r, _ := NewRegistry("", 3)
	r.Join(context.Background(), "a")
	select {
	case <-r.Changes():
	default:
		t.Fatal("no change signalled after a join")
	}
	r.Join(context.Background(), "a") // already a member: no change
	select {
	case <-r.Changes():
		t.Fatal("a no-op join signalled a change")
	default:
	}
}

func TestRestartedProxyRoutesToTheSameServersBeforeTheyReconnect(t *testing.T) {
	path := filepath.Join(t.TempDir(), "members.json")
	reg, _ := NewRegistry(path, 3)
	p := startProxy(t, func(c *Config) { c.Membership = reg })
	joinServers(t, p, 5)
	list := uuid.New()
	want := p.Owners(list)
	p.Close()

	reg2, _ := NewRegistry(path, 3)
	p2 := startProxy(t, func(c *Config) { c.Membership = reg2 })
	if got := p2.Owners(list); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("owners after restart %v, want %v", got, want)
	}
	// No server has reconnected: a push fails, and says why.
	c := newClient(t, p2)
	c.send(protocol.NewPush(1, list, []byte{1}))
	eb := c.recvType(protocol.TypeError).Err().(protocol.ErrorBody)
	if eb.Code != protocol.CodeQuorumFailed || !strings.Contains(eb.Message, "not connected") {
		t.Fatalf("error %v", eb)
	}
}

func TestQuorumRuleIsEnforcedAtStart(t *testing.T) {
	for _, q := range [][3]int{{3, 1, 2}, {3, 2, 1}, {3, 4, 2}, {3, 0, 0}} {
		_, err := Start(context.Background(), Config{ClientEndpoint: "tcp://127.0.0.1:*", PubEndpoint: "tcp://127.0.0.1:*",
			BackendEndpoint: "tcp://127.0.0.1:*", N: q[0], W: q[1], R: q[2], Logger: testLogger()})
		if q == [3]int{3, 0, 0} { // zero means the defaults, which are valid
			if err != nil {
				t.Fatalf("defaults refused: %v", err)
			}
			continue
		}
		if !errors.Is(err, ErrConfig) {
			t.Fatalf("N=%d W=%d R=%d accepted: %v", q[0], q[1], q[2], err)
		}
	}
}

func TestMainReportsUsageAndBindErrors(t *testing.T) {
	var out, errOut syncBuffer
	if code := Main(context.Background(), []string{"--w", "1"}, &out, &errOut, OpenRegistry); code != 2 ||
		!strings.Contains(errOut.String(), "must exceed N") {
		t.Fatalf("W=1: exit %d, stderr %q", code, errOut.String())
	}
	p := startProxy(t, nil)
	errOut.Reset()
	busy := strings.TrimPrefix(p.Endpoints().Client, "tcp://")
	if code := Main(context.Background(), []string{"--listen", busy}, &out, &errOut, OpenRegistry); code != 1 ||
		!strings.Contains(errOut.String(), "bind") || !strings.Contains(errOut.String(), "in use") {
		t.Fatalf("port in use: exit %d, stderr %q", code, errOut.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	out.Reset()
	go func() {
		done <- Main(ctx, []string{"--listen", "127.0.0.1:0", "--log-level", "error"}, &out, &errOut, OpenRegistry)
	}()
	waitForOutput(t, &out, "proxy ready: client=tcp://127.0.0.1:")
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d after a clean stop", code)
		}
	case <-time.After(testTimeout):
		t.Fatal("Main did not stop")
	}
}

func TestARemovedServerStaysOutOfTheRing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "members.json")
	reg, _ := NewRegistry(path, 3)
	p := startProxy(t, func(c *Config) { c.Membership = reg })
	fakes := joinServers(t, p, 4)
	if err := p.Remove("s2"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "s2 out of the ring", func() bool { return len(p.Members()) == 3 })
	// The removed server, still running, says hello again (as it does
	// when the proxy stops talking to it): it is refused and stays out.
	hello, _ := protocol.NewServerHello(2, 0, "s2")
	fakes["s2"].send(hello)
	eb := fakes["s2"].recvType(protocol.TypeError).Err().(protocol.ErrorBody)
	if eb.Code != protocol.CodeUnavailable || !strings.Contains(eb.Message, "removed") {
		t.Fatalf("hello of a removed server: %v", eb)
	}
	for _, m := range p.Members() {
		if m.ID == "s2" {
			t.Fatal("a removed server rejoined the ring")
		}
	}
	// And the removal survives a restart of the proxy.
	reg2, err := NewRegistry(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := reg2.Join(context.Background(), "s2"); !errors.Is(err, ErrRemoved) {
		t.Fatalf("join of a removed server after a restart: %v", err)
	}
}
