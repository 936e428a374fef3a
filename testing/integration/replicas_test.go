package integration

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/crdt"
	"shoplist/hashring"
	"shoplist/protocol"
)

// Placement and quorums on an in-process cluster of a proxy and five
// servers: a list lives on exactly its N owners, and a write needs W of
// them.

// assertOnExactlyOwners waits until every owner of the list stores want (the
// third replica may still be writing when the client has its W=2 acks), then
// checks that no other server has the list.
func assertOnExactlyOwners(t *testing.T, h *inproc, list uuid.UUID, want *crdt.List) {
	t.Helper()
	owners := h.proxy.Owners(list)
	if len(owners) != 3 {
		t.Fatalf("preference list %v, want 3 servers", owners)
	}
	for _, id := range owners {
		eventually(t, fmt.Sprintf("owner %s stores the whole list", id), func() bool {
			got, err := h.server(id).Store().Load(list)
			return err == nil && bytes.Equal(got.Encode(), want.Encode())
		})
	}
	for _, id := range h.running() {
		if !slices.Contains(owners, id) && h.has(id, list) {
			t.Errorf("server %s, not in the preference list %v, stores the list", id, owners)
		}
	}
}

func TestPushThenPullReturnsTheMergedListStoredOnItsThreeOwners(t *testing.T) {
	t.Parallel()
	h := startInproc(t, 5)
	alice, bob := h.client(), h.client()
	welcome, err := alice.hello()
	must(t, err)
	if welcome.PubEndpoint == "" || !slices.Contains(welcome.Endpoints, h.proxy.Endpoints().ClientEndpoint()) {
		t.Errorf("Welcome %+v: want the PUB endpoint and the proxy's client endpoint", welcome)
	}

	mine := pushNew(t, alice, "groceries")
	delta, err := mine.add("milk", 2)
	must(t, err)
	must(t, alice.push(mine.id(), delta))
	theirs := joinReplica(mine.id())
	delta, err = theirs.add("bread", 1)
	must(t, err)
	must(t, bob.push(mine.id(), delta))

	got, err := alice.pull(mine.id())
	must(t, err)
	want, err := crdt.Join(mine.list, theirs.list)
	must(t, err)
	if got == nil || !bytes.Equal(got.Encode(), want.Encode()) {
		t.Fatalf("pull returned %v, want the merge of both clients' lists %v", got, want)
	}
	if milk, _ := got.Lookup("milk"); got.Name() != "groceries" || milk.Wanted != 2 {
		t.Errorf("merged list %q with milk %+v, want groceries with 2 milk", got.Name(), milk)
	}
	assertOnExactlyOwners(t, h, mine.id(), want)

	// A list nobody pushed is empty, not an error.
	if none, err := alice.pull(uuid.New()); err != nil || none != nil {
		t.Errorf("pull of an unknown list: %v, %v; want an empty reply", none, err)
	}
}

func TestTwentyClientsAddingToOneListConcurrentlyLoseNothing(t *testing.T) {
	t.Parallel()
	h := startInproc(t, 5)
	first := newReplica(t, "party")
	creator := h.client()
	must(t, creator.push(first.id(), first.state()))

	const clients = 20
	conns := make([]*client, clients) // dialled here, each then used by its own goroutine only
	for i := range conns {
		conns[i] = h.client()
	}
	errs := make(chan error, clients)
	var items []string
	for i, c := range conns {
		item := fmt.Sprintf("item %02d", i)
		items = append(items, item)
		go func() {
			r := joinReplica(first.id())
			delta, err := r.add(item, int64(i+1))
			if err == nil {
				err = c.push(r.id(), delta)
			}
			errs <- err
		}()
	}
	for range clients {
		if err := <-errs; err != nil {
			t.Errorf("concurrent push: %v", err)
		}
	}
	got, err := creator.pull(first.id())
	must(t, err)
	if missing := missingItems(got, items); len(missing) > 0 {
		t.Fatalf("after %d acknowledged pushes the list lacks %v", clients, missing)
	}
	for i, item := range items {
		if v, _ := got.Lookup(item); v.Wanted != int64(i+1) {
			t.Errorf("%s: wanted %d, want %d", item, v.Wanted, i+1)
		}
	}
	assertOnExactlyOwners(t, h, first.id(), got)
}

// quorumError matches the message of a failed write that names how many of
// the list's 3 replicas acknowledged it: 1 when the proxy tried all three, 0
// when it knew two were down and tried none.
var quorumError = regexp.MustCompile(`\b[01] of 3\b`)

// Sloppy quorum: with two of a list's three owners down, a
// push still succeeds, written to the live owner and, with hints, to the
// next two servers clockwise; once the owners are back, the fallbacks hand
// the list over and drop their copies, so it ends up on exactly its owners.
func TestPushWithTwoOfThreeReplicasDownIsHintedAndHandedOffWhenTheyReturn(t *testing.T) {
	t.Parallel()
	h := startInproc(t, 5)
	c := h.client()
	list := newReplica(t, "sloppy")
	owners := h.proxy.Owners(list.id())
	walk := hashring.New(h.running()).Owners(list.id().String(), 5)
	if !slices.Equal(walk[:3], owners) {
		t.Fatalf("ring walk %v does not start with the owners %v", walk, owners)
	}
	down, fallbacks := owners[1:], walk[3:]
	must(t, c.push(list.id(), list.state()))
	sub := watch(t, c, list)

	var stopped []int
	for _, id := range down {
		stopped = append(stopped, h.index(id))
		h.stop(h.index(id))
	}
	h.waitMembers(nil, down)
	delta, err := list.add("written while two owners were down", 1)
	must(t, err)
	must(t, c.push(list.id(), delta))
	for {
		m, err := sub.next(requestTimeout)
		must(t, err)
		if bytes.Equal(m.Body, delta) {
			break // the acknowledged push was published
		}
	}
	for _, id := range fallbacks {
		eventually(t, "fallback "+id+" keeps the list with a hint", func() bool {
			return h.has(id, list.id()) && h.server(id).Store().HintCount() == 1
		})
	}
	got, err := c.pull(list.id())
	must(t, err)
	if missing := missingItems(got, []string{"written while two owners were down"}); len(missing) > 0 {
		t.Fatalf("a pull with two owners down lacks the hinted write")
	}

	for i, idx := range stopped {
		h.start(idx, "")
		h.waitMembers([]string{down[i]}, nil)
	}
	// A fallback drops its copy only after the owner's durable ack, so once
	// both have dropped theirs the owners hold everything.
	for _, id := range fallbacks {
		eventually(t, "fallback "+id+" dropped its hint and its copy", func() bool {
			return !h.has(id, list.id()) && h.server(id).Store().HintCount() == 0
		})
	}
	assertOnExactlyOwners(t, h, list.id(), list.list)
}

// With fewer than W servers up in the whole cluster there is nowhere to
// write: the push fails at once and says how many replicas were reached.
func TestPushWithFewerThanWServersUpFailsClearly(t *testing.T) {
	t.Parallel()
	h := startInproc(t, 3)
	c := h.client()
	list := newReplica(t, "doomed")
	must(t, c.push(list.id(), list.state()))
	down := h.proxy.Owners(list.id())[1:]
	for _, id := range down {
		h.stop(h.index(id))
	}
	// Whether or not the proxy has noticed yet, the write fails; once it has,
	// it fails at once without writing anything.
	for _, when := range []string{"just after the crash", "once the proxy saw it"} {
		if when != "just after the crash" {
			h.waitMembers(nil, down)
		}
		delta, err := list.add("lost "+when, 1)
		must(t, err)
		err = c.push(list.id(), delta)
		var eb protocol.ErrorBody
		if !errors.As(err, &eb) || (eb.Code != protocol.CodeQuorumFailed && eb.Code != protocol.CodeUnavailable) {
			t.Fatalf("push %s with 2 of 3 servers down: %v, want an Error QuorumFailed or Unavailable", when, err)
		}
		if !quorumError.MatchString(eb.Message) {
			t.Errorf("push %s: error %q does not say how many of the 3 replicas were reached", when, eb.Message)
		}
	}
}

// watch subscribes c to r's list and more lists, as a client does: the SUB
// socket's filter first, then Subscribe; it returns once live updates of r
// arrive (see waitSubscribed).
func watch(t *testing.T, c *client, r *replica, more ...uuid.UUID) *subscriber {
	t.Helper()
	welcome, err := c.hello()
	must(t, err)
	lists := append([]uuid.UUID{r.id()}, more...)
	sub := subscribeLive(t, welcome.PubEndpoint, lists...)
	must(t, c.subscribe(lists...))
	waitSubscribed(t, c, sub, r)
	return sub
}

// waitSubscribed pushes edits of r until sub receives one, so that the
// subscription has reached the proxy's PUB socket (it travels there on its
// own, after the SUB connects); then it drains the updates those pushes
// published.
func waitSubscribed(t *testing.T, c *client, sub *subscriber, r *replica) {
	t.Helper()
	var pushed [][]byte
	deadline := time.Now().Add(testTimeout)
	for i := 0; ; i++ {
		delta, err := r.add(fmt.Sprintf("warm-up %d", i), 1)
		must(t, err)
		must(t, c.push(r.id(), delta))
		pushed = append(pushed, delta)
		m, err := sub.next(50 * time.Millisecond)
		if err == nil {
			// Updates come in publication order: skip to the last push.
			for !bytes.Equal(m.Body, pushed[len(pushed)-1]) {
				m, err = sub.next(requestTimeout)
				must(t, err)
			}
			return
		}
		if !errors.Is(err, errNoReply) {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no live update within %v of subscribing", testTimeout)
		}
	}
}
