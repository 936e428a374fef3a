package cli_test

import (
	"strings"
	"testing"

	"shoplist/testing/testcluster"
)

// TestSetAndUnbuy: set changes the wanted quantity and unbuy takes back
// bought ones (a number of them, or by default all), online, and the
// cluster has every change: another user joining sees them.
func TestSetAndUnbuy(t *testing.T) {
	c := testcluster.Start(t, 5)
	u := newUser(t, c.Endpoint())
	id := u.newList("Groceries")
	u.ok("add", id, "Milk", "2")
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"set", id, "milk", "5"}, "Milk 5/0"}, // up
		{[]string{"buy", id, "milk", "3"}, "Milk 5/3"},
		{[]string{"unbuy", "Groceries", "MILK", "1"}, "Milk 5/2"}, // by name, any case
		{[]string{"unbuy", id[:8], "milk"}, "Milk 5/0"},           // default: everything bought
		{[]string{"set", id, "milk", "1"}, "Milk 1/0"},            // down
		{[]string{"set", id, "milk", "1"}, "Milk 1/0"},            // to what it already is
	}
	for _, s := range steps {
		r := u.ok(s.args...)
		if r.stdout != "" || r.stderr != "" {
			t.Fatalf("%q online: stdout %q, stderr %q; want both empty", s.args, r.stdout, r.stderr)
		}
		if got := u.show(id, true).summary(); got != s.want {
			t.Fatalf("after %q the list is %q, want %q", s.args, got, s.want)
		}
	}
	u.ok("buy", id, "milk")
	if it := u.show(id, true).Items[0]; !it.Acquired || it.Remaining != 0 {
		t.Fatalf("after buying all: remaining %d, acquired %v", it.Remaining, it.Acquired)
	}
	u.ok("unbuy", id, "milk")
	if it := u.show(id, true).Items[0]; it.Acquired || it.Remaining != 1 || it.Bought != 0 {
		t.Fatalf("after unbuying all: bought %d, remaining %d, acquired %v; want 0, 1, false", it.Bought, it.Remaining, it.Acquired)
	}
	if out := u.ok("lists").stdout; !strings.Contains(out, "\tsynced") {
		t.Fatalf("lists after online edits: %q, want synced", out)
	}
	v := newUser(t, c.Endpoint())
	v.ok("join", id)
	if got := v.show(id, true).summary(); got != "Milk 1/0" {
		t.Fatalf("a user joining sees %q, want Milk 1/0", got)
	}
}

// TestSetAndUnbuyOffline: like every edit, set and unbuy are saved locally
// when the cluster cannot be reached (or with --offline), exit 0, say so on
// stderr, and reach the cluster at the next sync.
func TestSetAndUnbuyOffline(t *testing.T) {
	c := testcluster.Start(t, 5)
	u := newUser(t, c.Endpoint())
	id := u.newList("Trip")
	u.ok("add", id, "water", "2")
	u.ok("buy", id, "water", "2")

	u.proxy = deadEndpoint(t)
	for _, args := range [][]string{{"set", id, "water", "6"}, {"unbuy", id, "water", "1"}} {
		r := u.run(args...)
		if r.code != 0 || r.stdout != "" || strings.TrimSpace(r.stderr) != "saved locally; will sync when online" {
			t.Fatalf("%q with the cluster unreachable: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	for _, args := range [][]string{{"--offline", "set", id, "water", "4"}, {"--offline", "unbuy", id, "water"}} {
		r := u.run(args...)
		if r.code != 0 || r.stdout != "" || strings.TrimSpace(r.stderr) != "saved locally (offline); will sync when online" {
			t.Fatalf("%q: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	if got := u.show(id, true).summary(); got != "water 4/0" {
		t.Fatalf("local copy after offline edits %q, want water 4/0", got)
	}
	if out := u.ok("--offline", "lists").stdout; !strings.Contains(out, "\tpending") {
		t.Fatalf("lists after offline edits: %q, want pending", out)
	}

	u.proxy = c.Endpoint()
	u.ok("sync")
	v := newUser(t, c.Endpoint())
	v.ok("join", id)
	if got := v.show(id, true).summary(); got != "water 4/0" {
		t.Fatalf("after sync a user joining sees %q, want water 4/0", got)
	}
}

// TestSetAndUnbuyBadInput: wrong command lines exit 2 with the usage,
// refused edits exit 1 with one line saying why, and none changes the list.
func TestSetAndUnbuyBadInput(t *testing.T) {
	u := newUser(t, deadEndpoint(t))
	id := u.newList("L")
	u.ok("--offline", "add", id, "milk", "2")
	u.ok("--offline", "buy", id, "milk", "1")
	u.ok("--offline", "add", id, "tea")
	before := u.ok("--offline", "show", id, "--json").stdout

	cases := []struct {
		args   []string
		code   int
		phrase string
	}{
		{[]string{"set", id, "milk", "0"}, 1, "quantity"},
		{[]string{"set", id, "milk", "-2"}, 1, "quantity"},
		{[]string{"set", id, "milk", "two"}, 1, "quantity"},
		{[]string{"set", id, "milk", "1.5"}, 1, "quantity"},
		{[]string{"set", id, "milk", "1000001"}, 1, "at most 1000000"},
		{[]string{"set", id, "milk", "99999999999999999999"}, 1, "quantity"},
		{[]string{"set", id, "bread", "2"}, 1, "no such item"},
		{[]string{"set", "nope", "milk", "2"}, 1, "not the ID, an ID prefix or the name of a local list"},
		{[]string{"unbuy", id, "milk", "2"}, 1, `cannot unbuy that many: 1 of "milk" bought, cannot unbuy 2`},
		{[]string{"unbuy", id, "tea"}, 1, `cannot unbuy that many: none of "tea" is bought`},
		{[]string{"unbuy", id, "tea", "1"}, 1, "cannot unbuy that many"},
		{[]string{"unbuy", id, "milk", "0"}, 1, "quantity"},
		{[]string{"unbuy", id, "milk", "x"}, 1, "quantity"},
		{[]string{"unbuy", id, "bread"}, 1, "no such item"},
		{[]string{"unbuy", "nope", "milk"}, 1, "not the ID, an ID prefix or the name of a local list"},
		{[]string{"set", id, "milk"}, 2, "usage: client set LIST ITEM QTY"},
		{[]string{"set", id}, 2, "usage: client set LIST ITEM QTY"},
		{[]string{"set", id, "milk", "1", "extra"}, 2, "usage: client set LIST ITEM QTY"},
		{[]string{"unbuy", id}, 2, "usage: client unbuy LIST ITEM [QTY]"},
		{[]string{"unbuy", id, "milk", "1", "extra"}, 2, "usage: client unbuy LIST ITEM [QTY]"},
	}
	for _, tc := range cases {
		r := u.run(append([]string{"--offline"}, tc.args...)...)
		if tc.code == 2 {
			if r.code != 2 || !strings.Contains(r.stderr, tc.phrase) || !strings.Contains(r.stderr, "usage:") || r.stdout != "" {
				t.Errorf("%q: exit %d, stderr %q, stdout %q; want usage error with %q", tc.args, r.code, r.stderr, r.stdout, tc.phrase)
			}
			continue
		}
		if r.code != tc.code || !strings.Contains(r.stderr, tc.phrase) || r.stdout != "" || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%q: exit %d, stderr %q, stdout %q; want exit %d and one line with %q", tc.args, r.code, r.stderr, r.stdout, tc.code, tc.phrase)
		}
	}
	if after := u.ok("--offline", "show", id, "--json").stdout; after != before {
		t.Fatalf("refused edits changed the list:\nbefore %s\nafter  %s", before, after)
	}

	help := u.ok("--help").stdout
	for _, want := range []string{"\n  set LIST ITEM QTY ", "\n  unbuy LIST ITEM [QTY] "} {
		if !strings.Contains(help, want) {
			t.Errorf("--help lacks %q:\n%s", strings.TrimSpace(want), help)
		}
	}
}

// syncBoth brings two users' replicas together through the cluster: a
// syncs (pushes its edits), b syncs (pushes its own and pulls a's), a syncs
// again (pulls b's). Pushes are acknowledged by a write quorum and pulls read
// a read quorum that overlaps it, so afterwards each has the other's edits.
func syncBoth(a, b *user) {
	a.ok("sync")
	b.ok("sync")
	a.ok("sync")
}

// TestRemoveCancelsOnlyWhatItSaw: Bob adds eggs offline to a shared list
// that already has some; Alice, offline too and later, removes eggs having
// seen only the old entry. After both sync, Bob's add survives and only the
// part Alice saw is gone, on both devices and in the cluster.
func TestRemoveCancelsOnlyWhatItSaw(t *testing.T) {
	c := testcluster.Start(t, 5)
	for _, firstBy := range []string{"Alice", "Bob"} {
		t.Run("eggs first added by "+firstBy, func(t *testing.T) {
			alice, bob := newUser(t, c.Endpoint()), newUser(t, c.Endpoint())
			id := alice.newList("Breakfast")
			bob.ok("join", id)
			if firstBy == "Alice" {
				alice.ok("add", id, "eggs", "2")
			} else {
				bob.ok("add", id, "eggs", "2")
			}
			syncBoth(alice, bob)
			for who, u := range map[string]*user{"Alice": alice, "Bob": bob} {
				if got := u.show(id, true).summary(); got != "eggs 2/0" {
					t.Fatalf("%s before the offline edits sees %q, want eggs 2/0", who, got)
				}
			}

			bob.ok("--offline", "add", id, "eggs", "3")
			if got := bob.show(id, true).summary(); got != "eggs 5/0" {
				t.Fatalf("Bob's copy after his add %q, want eggs 5/0", got)
			}
			if got := alice.show(id, true).summary(); got != "eggs 2/0" {
				t.Fatalf("Alice's copy before her remove %q, want the old entry eggs 2/0", got)
			}
			alice.ok("--offline", "remove", id, "eggs")
			if got := alice.show(id, true).summary(); got != "" {
				t.Fatalf("Alice's copy after her remove %q, want empty", got)
			}

			syncBoth(bob, alice)
			const want = "eggs 3/0"
			a, b := alice.show(id, true).summary(), bob.show(id, true).summary()
			if a != want || b != want {
				t.Fatalf("after both synced Alice sees %q and Bob %q; want %q on both (Bob's concurrent add of 3 survives Alice's remove of the 2 she saw)", a, b, want)
			}
			v := newUser(t, c.Endpoint())
			v.ok("join", id)
			if got := v.show(id, true).summary(); got != want {
				t.Fatalf("the cluster's copy %q, want %q", got, want)
			}
		})
	}
}

// TestConcurrentSetsLaterWins: Alice and Bob, both offline, set the wanted
// quantity of the same item, Bob later. After both sync, both devices and
// the cluster want Bob's value: one of the two, never a sum or a difference.
func TestConcurrentSetsLaterWins(t *testing.T) {
	c := testcluster.Start(t, 5)
	alice, bob := newUser(t, c.Endpoint()), newUser(t, c.Endpoint())
	id := alice.newList("Dairy")
	alice.ok("add", id, "milk", "5")
	bob.ok("join", id)
	syncBoth(alice, bob)
	for who, u := range map[string]*user{"Alice": alice, "Bob": bob} {
		if got := u.show(id, true).summary(); got != "milk 5/0" {
			t.Fatalf("%s before the offline edits sees %q, want milk 5/0", who, got)
		}
	}

	alice.ok("--offline", "set", id, "milk", "1")
	bob.ok("--offline", "set", id, "milk", "2") // a later clock reading than Alice's
	if a, b := alice.show(id, true).summary(), bob.show(id, true).summary(); a != "milk 1/0" || b != "milk 2/0" {
		t.Fatalf("local copies after the sets: Alice %q, Bob %q; want milk 1/0 and milk 2/0", a, b)
	}

	syncBoth(alice, bob)
	const want = "milk 2/0"
	a, b := alice.show(id, true).summary(), bob.show(id, true).summary()
	if a != want || b != want {
		t.Fatalf("after both synced Alice sees %q and Bob %q; want %q on both (the later set, Bob's 2, wins)", a, b, want)
	}
	v := newUser(t, c.Endpoint())
	v.ok("join", id)
	if got := v.show(id, true).summary(); got != want {
		t.Fatalf("the cluster's copy %q, want %q", got, want)
	}
}
