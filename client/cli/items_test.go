package cli_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"shoplist/testing/testcluster"
)

// TestCategoriesAndNotes checks category and note set and clear an item's
// category and note, that show groups the items by category (named ones
// alphabetically, the uncategorised last) and show --json carries both.
func TestCategoriesAndNotes(t *testing.T) {
	u := newUser(t, "")
	id := u.newList("Weekly")
	u.ok("--offline", "add", id, "milk", "bread", "apples", "stamps")
	u.ok("--offline", "category", id, "milk", "Dairy")
	u.ok("--offline", "category", id, "apples", "Fruit", "and", "veg")
	u.ok("--offline", "category", id, "bread", "Bakery")
	u.ok("--offline", "note", id, "milk", "semi-skimmed")
	u.ok("--offline", "buy", id, "bread")

	out := u.ok("--offline", "show", id).stdout
	want := []string{"Bakery", "[x] bread", "Dairy", "[ ] milk", "semi-skimmed", "Fruit and veg", "[ ] apples", "uncategorised", "[ ] stamps"}
	at := 0
	for _, w := range want {
		i := strings.Index(out[at:], w)
		if i < 0 {
			t.Fatalf("show: %q missing or out of order in\n%s", w, out)
		}
		at += i + len(w)
	}

	var s struct {
		Items []struct {
			Name, Category, Note string
		} `json:"items"`
	}
	raw := u.ok("--offline", "show", id, "--json").stdout
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		t.Fatal(err)
	}
	got := ""
	for _, it := range s.Items {
		got += it.Name + "/" + it.Category + "/" + it.Note + ";"
	}
	if got != "bread/Bakery/;milk/Dairy/semi-skimmed;apples/Fruit and veg/;stamps//;" {
		t.Fatalf("show --json items: %s", got)
	}

	u.ok("--offline", "category", id, "milk")
	u.ok("--offline", "note", id, "milk")
	if raw := u.ok("--offline", "show", id, "--json").stdout; strings.Contains(raw, "Dairy") || strings.Contains(raw, "semi-skimmed") {
		t.Fatalf("category and note not cleared: %s", raw)
	}
	wantErr(t, u.run("--offline", "category", id, "bananas", "Fruit"), 1, "no such item")
}

// TestShowAlignsWideCharacters checks show pads names by their width on a
// terminal, so columns line up after CJK and emoji names.
func TestShowAlignsWideCharacters(t *testing.T) {
	u := newUser(t, "")
	id := u.newList("L")
	for _, it := range []string{"牛乳", "🍎 apples", "rice"} {
		u.ok("--offline", "add", id, it)
	}
	out := u.ok("--offline", "show", id).stdout
	col := -1
	for _, l := range strings.Split(out, "\n") {
		if !strings.Contains(l, " wanted") {
			continue
		}
		c := ansi.StringWidth(l[:strings.Index(l, regexp.MustCompile(`\d+ wanted`).FindString(l))])
		if col >= 0 && c != col {
			t.Fatalf("columns do not line up:\n%s", out)
		}
		col = c
	}
}

// TestClearBought checks clear removes every bought item and says how many.
func TestClearBought(t *testing.T) {
	u := newUser(t, "")
	id := u.newList("L")
	u.ok("--offline", "add", id, "milk", "eggs", "bread")
	u.ok("--offline", "buy", id, "milk")
	u.ok("--offline", "buy", id, "eggs")
	if out := u.ok("--offline", "clear", id).stdout; !strings.Contains(out, "cleared 2 bought items") {
		t.Fatalf("clear said %q", out)
	}
	if got := u.show(id, true).summary(); got != "bread 1/0" {
		t.Fatalf("after clear: %q", got)
	}
	if out := u.ok("--offline", "clear", id).stdout; !strings.Contains(out, "nothing bought") {
		t.Fatalf("clear of nothing said %q", out)
	}
}

// TestConfigSetProxy checks config set proxy remembers the proxies as
// --proxy does, config shows them, and a malformed one is refused.
func TestConfigSetProxy(t *testing.T) {
	u := newUser(t, "")
	ep := keyed(t, "tcp://127.0.0.1:7000")
	if out := u.ok("config").stdout; !strings.Contains(out, "proxy\t(none") {
		t.Fatalf("config with nothing remembered: %q", out)
	}
	u.ok("config", "set", "proxy", ep)
	var c struct {
		Proxies []string `json:"proxies"`
	}
	if err := json.Unmarshal([]byte(u.ok("config", "--json").stdout), &c); err != nil || len(c.Proxies) != 1 || c.Proxies[0] != ep {
		t.Fatalf("config --json after set: %v, %v", c, err)
	}
	r := u.run("config", "set", "proxy", "tcp://127.0.0.1:7000")
	if r.code != 2 || !strings.Contains(r.stderr, "has no key") {
		t.Fatalf("config set proxy without a key: exit %d, %q", r.code, r.stderr)
	}
}

// TestSyncSaysWhatItDid checks sync prints how many lists it pushed,
// updated and found up to date; and that a join that cannot reach the
// cluster names the proxies in words.
func TestSyncSaysWhatItDid(t *testing.T) {
	c := testcluster.Start(t, 3)
	alice, bob := newUser(t, c.Endpoint()), newUser(t, c.Endpoint())
	a := alice.newList("A")
	b := alice.newList("B")
	alice.newList("C")
	bob.ok("join", a)
	bob.ok("--offline", "add", a, "milk")
	if out := bob.ok("sync").stdout; strings.TrimSpace(out) != "1 pushed" {
		t.Fatalf("bob's sync said %q, want 1 pushed", out)
	}
	alice.ok("--offline", "add", b, "eggs")
	if out := alice.ok("sync").stdout; strings.TrimSpace(out) != "1 list up to date, 1 pushed, 1 updated from the cluster" {
		t.Fatalf("alice's sync said %q", out)
	}

	dead := newUser(t, deadEndpoint(t))
	r := dead.run("join", a)
	if r.code != 1 || strings.Contains(r.stderr, "[") || !strings.Contains(r.stderr, "tcp://127.0.0.1:") || strings.Contains(r.stderr, "#") {
		t.Fatalf("join without a cluster: exit %d, %q", r.code, r.stderr)
	}
}
