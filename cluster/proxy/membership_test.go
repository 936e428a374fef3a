package proxy

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"shoplist/cluster/membership"
	"shoplist/cluster/placement"
	"shoplist/protocol"
)

func TestRestartedProxyRoutesToTheSameServersBeforeTheyReconnect(t *testing.T) {
	path := filepath.Join(t.TempDir(), "members.json")
	reg, _ := membership.NewRegistry(path, 3)
	p := startProxy(t, func(c *Config) { c.Membership = reg })
	joinServers(t, p, 5)
	list := uuid.New()
	want := p.Owners(list)
	p.Close()

	reg2, _ := membership.NewRegistry(path, 3)
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

func TestARemovedServerStaysOutOfTheRing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "members.json")
	reg, _ := membership.NewRegistry(path, 3)
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
	// Its removal revoked its key, so its hello is not even admitted.
	eb := fakes["s2"].recvType(protocol.TypeError).Err().(protocol.ErrorBody)
	if eb.Code != protocol.CodeNotAdmitted || !strings.Contains(eb.Message, "removed") {
		t.Fatalf("hello of a removed server: %v", eb)
	}
	for _, m := range p.Members() {
		if m.ID == "s2" {
			t.Fatal("a removed server rejoined the ring")
		}
	}
	// And the removal survives a restart of the proxy.
	reg2, err := membership.NewRegistry(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := reg2.Join(context.Background(), "s2"); !errors.Is(err, placement.ErrRemoved) {
		t.Fatalf("join of a removed server after a restart: %v", err)
	}
}

func TestQuorumRuleIsEnforcedAtStart(t *testing.T) {
	for _, q := range [][3]int{{3, 1, 2}, {3, 2, 1}, {3, 4, 2}, {3, 0, 0}} {
		p, err := Start(context.Background(), Config{ClientEndpoint: "tcp://127.0.0.1:*", PubEndpoint: "tcp://127.0.0.1:*",
			BackendEndpoint: "tcp://127.0.0.1:*", N: q[0], W: q[1], R: q[2], Membership: newRegistry(t),
			CurveSecretKey: newKeyPair(t).Secret, Logger: testLogger()})
		if q == [3]int{3, 0, 0} { // zero means the defaults, which are valid
			if err != nil {
				t.Fatalf("defaults refused: %v", err)
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if !errors.Is(err, ErrConfig) {
			t.Fatalf("N=%d W=%d R=%d accepted: %v", q[0], q[1], q[2], err)
		}
	}
}

func TestStartRefusesAConfigWithoutMembership(t *testing.T) {
	_, err := Start(context.Background(), Config{ClientEndpoint: "tcp://127.0.0.1:*", PubEndpoint: "tcp://127.0.0.1:*",
		BackendEndpoint: "tcp://127.0.0.1:*", CurveSecretKey: newKeyPair(t).Secret, Logger: testLogger()})
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "membership") {
		t.Fatalf("Start without a membership: %v, want ErrConfig naming it", err)
	}
}

func TestStartRefusesABackendWithoutAKey(t *testing.T) {
	base := Config{ClientEndpoint: "tcp://127.0.0.1:*", PubEndpoint: "tcp://127.0.0.1:*",
		BackendEndpoint: "tcp://127.0.0.1:*", Membership: newRegistry(t), Logger: testLogger()}
	for name, edit := range map[string]func(*Config){
		"no key":       func(c *Config) {},
		"a public key": func(c *Config) { c.CurveSecretKey = newKeyPair(t).Public[:39] },
		"a key and insecure both": func(c *Config) {
			c.CurveSecretKey, c.InsecureBackend, c.InsecureClients = newKeyPair(t).Secret, true, true
		},
		"insecure backend, CURVE clients, no key": func(c *Config) { c.InsecureBackend = true },
	} {
		cfg := base
		edit(&cfg)
		if _, err := Start(context.Background(), cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: Start: %v, want ErrConfig", name, err)
		}
	}
}
