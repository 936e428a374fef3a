package cli_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestFlagsGoAnywhere checks global and command flags are read after the
// command and its arguments too, and that after -- a flag is an argument.
func TestFlagsGoAnywhere(t *testing.T) {
	u := newUser(t, "")
	id := strings.TrimSpace(u.ok("new", "Pantry", "--offline").stdout)
	u.ok("add", id, "jam", "--offline")
	u.ok("add", "--offline", id, "tea", "2")
	u.ok("add", id, "--", "--weird--")
	s := u.show(id, true)
	if got := s.summary(); got != "--weird-- 1/0, jam 1/0, tea 2/0" {
		t.Fatalf("items %q", got)
	}
	other := t.TempDir()
	u.ok("new", "Elsewhere", "--data", other, "--offline")
	if out := u.ok("lists", "--data="+other, "--offline").stdout; !strings.Contains(out, "Elsewhere") || strings.Contains(out, "Pantry") {
		t.Fatalf("--data after the command not used: %q", out)
	}
	r := u.run("show", id, "--frobnicate")
	if r.code != 2 || !strings.Contains(r.stderr, "client show has no flag --frobnicate") {
		t.Fatalf("unknown command flag: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestUsageErrorsAreShort checks a usage error says what was wrong in one
// line and where to find more, not the whole synopsis.
func TestUsageErrorsAreShort(t *testing.T) {
	u := newUser(t, "")
	for _, args := range [][]string{{"add"}, {"frobnicate"}, {"--bogus"}, {"set", "L", "milk"}, {"sync", "extra"}} {
		r := u.run(append([]string{"--offline"}, args...)...)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code != 2 || len(lines) != 2 || !strings.Contains(lines[1], "see client --help") {
			t.Errorf("%q: exit %d, stderr %q; want exit 2, the error and a pointer to --help", args, r.code, r.stderr)
		}
	}
}

// TestErrorsNameWhatIsWrong checks the errors of a list name and of a
// quantity too big say so.
func TestErrorsNameWhatIsWrong(t *testing.T) {
	u := newUser(t, "")
	id := u.newList("L")
	u.ok("--offline", "add", id, "milk")
	wantErr(t, u.run("--offline", "rename", id, ""), 1, "invalid list name")
	wantErr(t, u.run("--offline", "add", id, "milk", "99999999999999999999"), 1, "at most 1000000")
	wantErr(t, u.run("--offline", "set", id, "milk", "99999999999999999999"), 1, "at most 1000000")
}

// TestMalformedProxyIsAUsageError checks an endpoint that cannot be a
// proxy's is refused as a usage error, not taken for an unreachable one.
func TestMalformedProxyIsAUsageError(t *testing.T) {
	key := strings.SplitN(keyed(t, "tcp://127.0.0.1:1"), "#", 2)[1]
	for _, p := range []string{"nonsense", "tcp://nonsense#" + key, "tcp://127.0.0.1:notaport#" + key, "tcp://127.0.0.1:99999#" + key} {
		u := newUser(t, p)
		r := u.run("lists")
		if r.code != 2 || !strings.Contains(r.stderr, "--proxy") {
			t.Errorf("--proxy %q: exit %d, stderr %q; want a usage error", p, r.code, r.stderr)
		}
	}
}

// TestListsJSON checks lists --json: one object per list with the
// documented keys.
func TestListsJSON(t *testing.T) {
	u := newUser(t, "")
	a := u.newList("Alpha")
	u.ok("--offline", "add", a, "x", "y")
	u.ok("--offline", "buy", a, "y")
	u.newList("Beta")
	var got []map[string]any
	out := u.ok("--offline", "lists", "--json").stdout
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("lists --json printed %q: %v", out, err)
	}
	if len(got) != 2 {
		t.Fatalf("lists --json: %d lists", len(got))
	}
	var alpha map[string]any
	for _, l := range got {
		for _, k := range []string{"id", "name", "items", "remaining", "pending", "last_sync"} {
			if _, ok := l[k]; !ok {
				t.Fatalf("lists --json: no %q in %v", k, l)
			}
		}
		if l["name"] == "Alpha" {
			alpha = l
		}
	}
	if alpha["id"] != a || alpha["items"] != 2.0 || alpha["remaining"] != 1.0 || alpha["pending"] != true || alpha["last_sync"] != "" {
		t.Fatalf("Alpha in lists --json: %v", alpha)
	}
	if out := u.ok("--offline", "lists", "--json", "--data", t.TempDir()).stdout; strings.TrimSpace(out) != "[]" {
		t.Fatalf("lists --json with no list: %q, want []", out)
	}
}

// TestAddSeveralItems checks add takes several items, each with an
// optional quantity after it or inside it, and adds none if one is wrong.
func TestAddSeveralItems(t *testing.T) {
	u := newUser(t, "")
	id := u.newList("L")
	u.ok("--offline", "add", id, "milk", "eggs 12", "bread", "butter", "2")
	if got := u.show(id, true).summary(); got != "bread 1/0, butter 2/0, eggs 12/0, milk 1/0" {
		t.Fatalf("items %q", got)
	}
	wantErr(t, u.run("--offline", "add", id, "jam", "cheese 0"), 1, "quantity")
	if got := u.show(id, true).summary(); strings.Contains(got, "jam") {
		t.Fatalf("a refused add added some items: %q", got)
	}
}
