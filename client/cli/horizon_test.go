package cli_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/testing/testcluster"
)

// TestADeviceAwayPastTheHorizonDropsWhatTheClusterForgot: Bob joins a list
// and goes quiet, adding tea on his device without syncing. Alice removes
// milk, and once the servers' horizon has passed, her next remove makes
// them forget its tombstone. When Bob syncs again, his milk (whose remove he never saw)
// and his unsynced tea, both from before the floor, are dropped with a
// notice instead of coming back; his later add of jam reaches everyone.
func TestADeviceAwayPastTheHorizonDropsWhatTheClusterForgot(t *testing.T) {
	const horizon = 2 * time.Second
	c := testcluster.StartWith(t, 3, testcluster.Options{TombstoneHorizon: horizon})
	alice, bob := newUser(t, c.Endpoint()), newUser(t, c.Endpoint())
	id := alice.newList("Party")
	alice.ok("add", id, "milk", "2")
	alice.ok("add", id, "bread")
	bob.ok("join", id)
	bob.ok("--offline", "add", id, "tea")
	alice.ok("remove", id, "milk")

	// A list forgets old removes at its next remove past the horizon:
	// Alice adds and removes scratch until every server holding the list
	// has forgotten milk.
	deadline := time.Now().Add(testcluster.WaitTimeout)
	for !forgottenEverywhere(t, c, id, "milk") {
		if time.Now().After(deadline) {
			t.Fatalf("the servers still remember milk %v after the remove", testcluster.WaitTimeout)
		}
		alice.ok("add", id, "scratch")
		alice.ok("remove", id, "scratch")
	}

	r := bob.ok("show", id, "--json")
	for _, want := range []string{"dropped or reset", `"milk"`, `"tea"`} {
		if !strings.Contains(r.stderr, want) {
			t.Fatalf("bob's sync did not tell him %s; stderr:\n%s", want, r.stderr)
		}
	}
	bob.ok("add", id, "jam")
	for _, u := range []*user{bob, alice} {
		s := u.show(id, false)
		got := make([]string, 0, len(s.Items))
		for _, it := range s.Items {
			got = append(got, it.Name)
		}
		if strings.Join(got, ",") != "bread,jam" {
			t.Fatalf("items %v, want bread and jam: milk and tea must not come back", got)
		}
	}
}

// forgottenEverywhere reports whether the list is on at least two servers
// and none of them keeps the item, removed or not.
func forgottenEverywhere(t *testing.T, c *testcluster.Cluster, list, item string) bool {
	t.Helper()
	id := uuid.MustParse(list)
	holders := 0
	for _, s := range c.Servers() {
		l, err := s.Store().Load(id)
		if err != nil {
			continue
		}
		holders++
		for _, k := range l.ItemKeys() {
			if k == item {
				return false
			}
		}
	}
	return holders >= 2
}
