package cli_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"shoplist/testing/testcluster"
)

func TestEditCommandsAndShow(t *testing.T) {
	c := testcluster.Start(t, 5)
	u := newUser(t, c.Endpoint())
	id := u.newList("Weekly shop")
	u.ok("add", "Weekly shop", "Milk", "2")
	u.ok("add", id[:8], "eggs") // default quantity 1, list by ID prefix
	u.ok("add", id, "bread", "3")
	u.ok("buy", id, "milk", "1")
	u.ok("buy", id, "eggs") // all that remains
	u.ok("remove", id, "Bread")
	u.ok("rename", id, "Saturday", "shop") // the name is the rest of the line

	s := u.show(id, false)
	if s.ID != id || s.Name != "Saturday shop" {
		t.Fatalf("show: id %s name %q", s.ID, s.Name)
	}
	// Still-to-buy first, then acquired; bread removed.
	if got := s.summary(); got != "Milk 2/1, eggs 1/1" {
		t.Fatalf("items %q, want Milk 2/1, eggs 1/1", got)
	}
	if it := s.Items[0]; it.Remaining != 1 || it.Acquired {
		t.Fatalf("milk remaining %d acquired %v", it.Remaining, it.Acquired)
	}
	if it := s.Items[1]; it.Remaining != 0 || !it.Acquired {
		t.Fatalf("eggs remaining %d acquired %v", it.Remaining, it.Acquired)
	}
	text := u.ok("show", "Saturday shop").stdout
	for _, want := range []string{"Saturday shop", id, "[ ] Milk", "[x] eggs", "1 remaining"} {
		if !strings.Contains(text, want) {
			t.Fatalf("show text lacks %q:\n%s", want, text)
		}
	}
	// Every edit reached the cluster: a second user joining sees them.
	v := newUser(t, c.Endpoint())
	v.ok("join", id)
	if got := v.show(id, true).summary(); got != "Milk 2/1, eggs 1/1" {
		t.Fatalf("joined copy %q", got)
	}
}

func TestListsLine(t *testing.T) {
	c := testcluster.Start(t, 5)
	u := newUser(t, c.Endpoint())
	a := u.newList("Alpha")
	u.ok("add", a, "x", "1")
	u.ok("add", a, "y", "1")
	u.ok("buy", a, "y")
	u.ok("--offline", "new", "Beta") // never pushed: pending
	out := u.ok("lists").stdout
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("lists printed %d lines, want 2:\n%s", len(lines), out)
	}
	alpha := strings.Split(lines[0], "\t")
	if len(alpha) != 5 || alpha[0] != a || alpha[1] != "Alpha" || alpha[2] != "2 items" || alpha[3] != "1 remaining" || !strings.HasPrefix(alpha[4], "synced") {
		t.Fatalf("Alpha line %q", lines[0])
	}
	beta := strings.Split(lines[1], "\t")
	if len(beta) != 5 || beta[1] != "Beta" || beta[2] != "0 items" || beta[4] != "pending" {
		t.Fatalf("Beta line %q", lines[1])
	}
}

func TestTwoUsersShareAList(t *testing.T) {
	c := testcluster.Start(t, 5)
	alice, bob := newUser(t, c.Endpoint()), newUser(t, c.Endpoint())
	id := alice.newList("Party")
	alice.ok("add", id, "chips", "2")
	bob.ok("join", id)
	bob.ok("add", "Party", "chips", "3") // bob's local name for it is the same
	bob.ok("add", id, "soda")
	alice.ok("sync")
	if got := alice.show(id, true).summary(); got != "chips 5/0, soda 1/0" {
		t.Fatalf("alice sees %q, want chips 5/0, soda 1/0", got)
	}
}

func TestJoinErrors(t *testing.T) {
	c := testcluster.Start(t, 5)
	u := newUser(t, c.Endpoint())
	wantErr(t, u.run("join", "6f1c0e2a-9b3d-4c5e-8f70-112233445566"), 1, "has no list")
	wantErr(t, u.run("join", "not-an-id"), 1, "is not a list ID")
	wantErr(t, u.run("--offline", "join", "6f1c0e2a-9b3d-4c5e-8f70-112233445566"), 1, "needs the network")
	if out := u.ok("lists").stdout; out != "" {
		t.Fatalf("a failed join left a local list: %q", out)
	}
	down := newUser(t, deadEndpoint(t))
	wantErr(t, down.run("join", "6f1c0e2a-9b3d-4c5e-8f70-112233445566"), 1, "cannot reach the cluster")
}

func TestBadInput(t *testing.T) {
	u := newUser(t, deadEndpoint(t))
	id := u.newList("L")
	u.run("add", id, "milk", "2")
	u.run("new", "Twin")
	u.run("new", "Twin")
	long := strings.Repeat("x", 201)
	cases := []struct {
		args   []string
		code   int
		phrase string
	}{
		{[]string{"add", id, ""}, 1, "invalid item name"},
		{[]string{"add", id, "  "}, 1, "invalid item name"},
		{[]string{"add", id, long}, 1, "invalid item name"},
		{[]string{"add", id, "milk", "0"}, 1, "quantity"},
		{[]string{"add", id, "milk", "-2"}, 1, "quantity"},
		{[]string{"add", id, "milk", "1.5"}, 1, "quantity"},
		{[]string{"add", id, "milk", "99999999999999999999"}, 1, "quantity"},
		{[]string{"buy", id, "milk", "3"}, 1, "cannot buy that many"},
		{[]string{"buy", id, "milk", "0"}, 1, "quantity"},
		{[]string{"buy", id, "bread"}, 1, "no such item"},
		{[]string{"remove", id, "bread"}, 1, "no such item"},
		{[]string{"rename", id, long}, 1, "invalid"},
		{[]string{"new", long}, 1, "invalid list name"},
		{[]string{"show", "nope"}, 1, "not the ID, an ID prefix or the name of a local list"},
		{[]string{"add", "Twin", "x"}, 1, "matches 2 lists"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"add", id}, 2, "client add LIST ITEM [QTY]"},
		{[]string{"add", id, "3", "milk"}, 1, "quantity 3 comes before any item"},
		{[]string{"new"}, 2, "client new NAME"},
		{[]string{"--bogus"}, 2, "flag provided but not defined"},
	}
	for _, tc := range cases {
		r := u.run(append([]string{"--offline"}, tc.args...)...)
		if tc.code == 2 {
			if r.code != 2 || !strings.Contains(r.stderr, tc.phrase) || !strings.Contains(r.stderr, "usage:") {
				t.Errorf("%q: exit %d, stderr %q; want usage error with %q", tc.args, r.code, r.stderr, tc.phrase)
			}
			continue
		}
		if r.code != tc.code || !strings.Contains(r.stderr, tc.phrase) || r.stdout != "" || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%q: exit %d, stderr %q, stdout %q; want exit %d and one line with %q", tc.args, r.code, r.stderr, r.stdout, tc.code, tc.phrase)
		}
	}
	// None of the refused edits changed the list.
	if got := u.show(id, true).summary(); got != "milk 2/0" {
		t.Fatalf("after refused edits the list is %q, want milk 2/0", got)
	}
}

// TestOfflineEditsSyncLater: with the cluster unreachable, edits exit 0 and
// say they were saved locally; sync fails clearly; once the cluster is
// reachable, sync succeeds and another user sees every edit.
func TestOfflineEditsSyncLater(t *testing.T) {
	c := testcluster.Start(t, 5)
	down := deadEndpoint(t)
	u := newUser(t, down)
	start := time.Now()
	r := u.run("new", "Trip")
	if r.code != 0 || !strings.Contains(r.stderr, "saved locally; will sync when online") {
		t.Fatalf("offline new: exit %d, stderr %q", r.code, r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	if r := u.run("add", id, "sunscreen", "2"); r.code != 0 || !strings.Contains(r.stderr, "saved locally") {
		t.Fatalf("offline add: exit %d, stderr %q", r.code, r.stderr)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Fatalf("two offline edits took %v; each should give up after about 2s", took)
	}
	wantErr(t, u.run("sync"), 1, "sync incomplete")
	if out := u.ok("lists").stdout; !strings.Contains(out, "pending") {
		t.Fatalf("lists after offline edits: %q, want pending", out)
	}
	// The same data directory, now pointed at the live cluster.
	u.proxy = c.Endpoint()
	u.ok("sync")
	if out := u.ok("lists").stdout; !strings.Contains(out, "synced") {
		t.Fatalf("lists after sync: %q, want synced", out)
	}
	v := newUser(t, c.Endpoint())
	v.ok("join", id)
	if got := v.show(id, true).summary(); got != "sunscreen 2/0" {
		t.Fatalf("other user sees %q", got)
	}
}

// TestOfflineFlagNeverTouchesTheNetwork points --proxy at a listener and
// checks that no connection arrives while --offline edits run.
func TestOfflineFlagNeverTouchesTheNetwork(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	u := newUser(t, keyed(t, "tcp://"+l.Addr().String()))
	r := u.run("--offline", "new", "Quiet")
	if r.code != 0 {
		t.Fatalf("offline new: %d %s", r.code, r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	u.ok("--offline", "add", id, "tea")
	u.ok("--offline", "show", id)
	u.ok("--offline", "lists")
	l.(*net.TCPListener).SetDeadline(time.Now().Add(100 * time.Millisecond))
	if conn, err := l.Accept(); err == nil {
		conn.Close()
		t.Fatal("an --offline command connected to the proxy endpoint")
	}
}

func TestForget(t *testing.T) {
	c := testcluster.Start(t, 5)
	u := newUser(t, c.Endpoint())
	id := u.newList("Keep shared")
	u.ok("add", id, "a")
	// Forgetting a synced list removes only the local copy.
	u.ok("forget", "Keep shared")
	if out := u.ok("lists").stdout; out != "" {
		t.Fatalf("lists after forget: %q", out)
	}
	u.ok("join", id)
	if got := u.show(id, true).summary(); got != "a 1/0" {
		t.Fatalf("re-joined list %q", got)
	}
	// A list with unpushed changes is kept unless --force.
	u.ok("--offline", "add", id, "b")
	wantErr(t, u.run("--offline", "forget", id), 1, "changes the cluster does not have")
	u.ok("--offline", "forget", id, "--force")
	if out := u.ok("lists").stdout; out != "" {
		t.Fatalf("lists after forget --force: %q", out)
	}
}

// TestFailoverToSecondProxy: with a dead first endpoint, an edit still
// reaches the cluster through the second within the command's budget.
func TestFailoverToSecondProxy(t *testing.T) {
	c := testcluster.Start(t, 5)
	u := newUser(t, deadEndpoint(t)+","+c.Endpoint())
	r := u.run("new", "Failover")
	if r.code != 0 || strings.Contains(r.stderr, "saved locally") {
		t.Fatalf("new through the second endpoint: exit %d, stderr %q", r.code, r.stderr)
	}
	if out := u.ok("--offline", "lists").stdout; !strings.Contains(out, "synced") {
		t.Fatalf("list not synced through the second endpoint: %q", out)
	}
}
