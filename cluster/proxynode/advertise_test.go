package proxynode

import (
	"context"
	"net"
	"strings"
	"testing"

	"shoplist/internal/curvekey"
	"shoplist/internal/dealer"
)

// TestAProxyBoundOnAWildcardAdvertisesTheHostItIsGiven: with every
// address on 0.0.0.0 and --advertise, the ready line, the Welcome and the
// admin API give peers that host, and a client reaches the proxy there.
func TestAProxyBoundOnAWildcardAdvertisesTheHostItIsGiven(t *testing.T) {
	const host = "127.0.0.2" // a loopback address other than the default
	data := t.TempDir()
	// Raft binds the --listen host by default: with --advertise, a
	// wildcard too.
	p := runMain(t, data, "--listen", "0.0.0.0:0", "--admin", "0.0.0.0:0", "--advertise", host)
	for _, f := range []string{"client", "pub", "backend"} {
		if !strings.HasPrefix(p.fields[f], "tcp://"+host+":") {
			t.Errorf("ready line %s=%s, want host %s", f, p.fields[f], host)
		}
	}
	for _, f := range []string{"raft", "admin"} {
		if h, _, err := net.SplitHostPort(p.fields[f]); err != nil || h != host {
			t.Errorf("ready line %s=%s, want host %s", f, p.fields[f], host)
		}
	}
	c, err := dealer.DialConn(curvekey.JoinEndpoint(p.fields["client"], p.fields["client#key"]), testTimeout)
	must(t, err)
	defer c.Close()
	w, err := c.Hello(context.Background())
	must(t, err)
	if !strings.HasPrefix(w.PubEndpoint, "tcp://"+host+":") || len(w.Endpoints) != 1 || !strings.HasPrefix(w.Endpoints[0], "tcp://"+host+":") {
		t.Fatalf("welcome %+v: want every endpoint on %s", w, host)
	}
}
