package cli_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"shoplist/testing/testcluster"
)

// TestAShoppingTrip walks a whole trip in two real terminal UIs sharing a
// list: Bob has named himself on the command line and Alice names herself
// in her UI; Alice adds several items at once and puts them in aisles, Bob
// checks items off with space in the shop while Alice watches them go,
// each seeing who did what, clears what he bought, and undoes the clear;
// both see every step live. At last Alice deletes the list for everyone
// and Bob sees it deleted by her.
func TestAShoppingTrip(t *testing.T) {
	c := testcluster.Start(t, 3)
	alice, bob := newUser(t, c.Endpoint()), newUser(t, c.Endpoint())
	id := alice.newList("Weekly shop")
	bob.ok("join", id)
	bob.ok("config", "set", "name", "Bob")

	x := newTmux(t)
	x.start("alice", clientBin, "--data", alice.data)
	x.start("bob", clientBin, "--data", bob.data)
	x.waitFor("alice", "Weekly shop", "online")
	x.answer("alice", "@", "Your name", "Alice")
	x.waitFor("alice", "your edits are signed “Alice”")
	for _, s := range []string{"alice", "bob"} {
		x.waitFor(s, "Weekly shop", "online")
		x.keys(s, "Enter")
		x.waitFor(s, "No items yet")
	}

	// Alice adds three items in one go, then sorts two into aisles.
	x.add("alice", "milk 2", "bread", "apples 3")
	x.waitFor("alice", "Weekly shop · 3 of 3 left")
	x.waitFor("bob", "Weekly shop · 3 of 3 left", "bread · added by Alice")
	x.keys("alice", "g") // apples, the first
	x.waitFor("alice", "› [ ] apples")
	x.category("alice", "Produce")
	x.waitFor("alice", "Produce · 1 of 1 left")
	x.keys("alice", "G") // milk, the last of the uncategorised
	x.waitFor("alice", "› [ ] milk")
	x.category("alice", "Dairy")
	x.waitFor("bob", "Dairy · 1 of 1 left", "Produce · 1 of 1 left", "uncategorised · 1 of 1 left")

	// Bob shops: Dairy comes first, then Produce, then the rest.
	x.keys("bob", "g")
	x.waitFor("bob", "› [ ] milk")
	x.keys("bob", "Space")
	x.waitFor("bob", "checked off 2 × milk")
	x.waitFor("alice", "[✓] milk · bought by Bob", "Dairy · 0 of 1 left") // live, no key pressed
	x.keys("bob", "G")
	x.waitFor("bob", "› [ ] bread")
	x.keys("bob", "Space")
	x.waitFor("alice", "[✓] bread", "Weekly shop · 1 of 3 left")

	// Done shopping: Bob clears what he bought; Alice sees it go.
	x.keys("bob", "C")
	x.waitFor("bob", "Clear 2 bought items?")
	x.keys("bob", "y")
	x.waitFor("bob", "cleared 2 bought items")
	x.waitFor("alice", "Weekly shop · 1 of 1 left")
	x.waitGone("alice", "milk")

	// Bob undoes the clear: both come back, bought, for Alice too.
	x.keys("bob", "u")
	x.waitFor("bob", "undone: cleared 2 bought items")
	x.waitFor("alice", "[✓] milk", "[✓] bread", "Weekly shop · 1 of 3 left")

	// After the trip Alice deletes the list for everyone.
	x.keys("alice", "D")
	x.waitFor("alice", "Delete “Weekly shop” for everyone?")
	x.keys("alice", "y")
	x.waitFor("alice", "Weekly shop · deleted by you")
	x.waitFor("bob", "Weekly shop · deleted by Alice")

	for _, s := range []string{"alice", "bob"} {
		x.keys(s, "q")
	}
	testcluster.Eventually(t, "both UIs exit on q", func() bool {
		return exec.Command("tmux", "-L", x.socket, "has-session").Run() != nil
	}, func() string { return x.screen("alice") + "\n" + x.screen("bob") })

	var got struct {
		Deleted bool
		Items   []struct {
			Name, Category string
			Bought         int64
		}
	}
	if err := json.Unmarshal([]byte(alice.ok("--offline", "show", id, "--json").stdout), &got); err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, it := range got.Items {
		parts = append(parts, it.Name+"/"+it.Category+"/"+string(rune('0'+it.Bought)))
	}
	if s := strings.Join(parts, " "); s != "milk/Dairy/2 apples/Produce/0 bread//1" || !got.Deleted {
		t.Fatalf("Alice's replica after the trip: %s", s)
	}
}

// category sets the category of the item under the cursor.
func (x *tmux) category(session, category string) {
	x.t.Helper()
	x.answer(session, "c", "Category of", category)
}

// answer presses key, waits for the prompt titled title, types text and
// enter, and waits until the prompt is gone.
func (x *tmux) answer(session, key, title, text string) {
	x.t.Helper()
	x.keys(session, key)
	x.waitFor(session, title)
	x.text(session, text)
	x.keys(session, "Enter")
	x.waitGone(session, title)
}
