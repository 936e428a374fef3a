package cli_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"shoplist/internal/curvekey"
	"shoplist/testing/testcluster"

	"github.com/google/uuid"
)

func TestAProxyEndpointWithoutItsKeyIsRefused(t *testing.T) {
	u := newUser(t, "tcp://127.0.0.1:5555")
	wantErr(t, u.run("lists"), 2, "has no key")
}

// TestTheClientRemembersItsProxiesAndKeepsOneKeyPair: one --proxy is
// enough; later commands sync through the proxies it named, with the
// install's key pair made on first use, kept private and stable.
func TestTheClientRemembersItsProxiesAndKeepsOneKeyPair(t *testing.T) {
	c := testcluster.Start(t, 3)
	u := newUser(t, c.Endpoint())
	id := u.newList("Groceries")
	keyDir := curvekey.DirIn(u.data)
	first, err := curvekey.ReadPublic(curvekey.PublicPath(keyDir, "client"))
	if err != nil {
		t.Fatalf("no install key after a command: %v", err)
	}
	if st, err := os.Stat(filepath.Join(keyDir, "client.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the install's secret key: %v, %v; want mode 0600", st, err)
	}

	u.proxy = "" // no --proxy from now on
	if r := u.ok("add", id, "milk"); strings.Contains(r.stderr, "saved locally") {
		t.Fatalf("add without --proxy did not sync: %q", r.stderr)
	}
	u.ok("sync")
	if n := holdersOf(c, id, "milk"); n < 2 {
		t.Fatalf("%d servers hold milk, want a write quorum of 2", n)
	}
	if again, err := curvekey.ReadPublic(curvekey.PublicPath(keyDir, "client")); err != nil || again != first {
		t.Fatalf("the install key changed from %s to %s (%v)", first, again, err)
	}
}

// TestWithNoProxyKnownEditsAreKeptAndSyncSaysHowToGiveOne: a first run
// without --proxy edits offline and says how to connect.
func TestWithNoProxyKnownEditsAreKeptAndSyncSaysHowToGiveOne(t *testing.T) {
	u := newUser(t, "")
	r := u.run("new", "Groceries")
	if r.code != 0 || !strings.Contains(r.stderr, "saved locally; no proxy known yet") || !strings.Contains(r.stderr, "--proxy tcp://HOST:PORT#KEY") {
		t.Fatalf("new without a proxy: exit %d, stderr %q", r.code, r.stderr)
	}
	wantErr(t, u.run("sync"), 1, "no proxy known yet")
}

// holdersOf counts the servers whose copy of list holds item.
func holdersOf(c *testcluster.Cluster, list, item string) int {
	n := 0
	for _, s := range c.Servers() {
		l, err := s.Store().Load(uuid.MustParse(list))
		if err == nil && slices.Contains(l.ItemKeys(), item) {
			n++
		}
	}
	return n
}
