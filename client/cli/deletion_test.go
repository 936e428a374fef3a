package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"shoplist/testing/testcluster"
)

// listed is one entry of lists --json, with the deletion.
type listed struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Deleted   bool   `json:"deleted"`
	DeletedBy string `json:"deleted_by"`
	DeletedAt string `json:"deleted_at"`
}

// exported is show --json with what the deletion and the authors add.
type exported struct {
	Name      string `json:"name"`
	Deleted   bool   `json:"deleted"`
	DeletedBy string `json:"deleted_by"`
	DeletedAt string `json:"deleted_at"`
	Items     []struct {
		Name   string `json:"name"`
		Bought int64  `json:"bought"`
		Author string `json:"author"`
	} `json:"items"`
}

func (u *user) lists() []listed {
	u.t.Helper()
	var out []listed
	if err := json.Unmarshal([]byte(u.ok("--offline", "lists", "--json").stdout), &out); err != nil {
		u.t.Fatal(err)
	}
	return out
}

func (u *user) export(list string) exported {
	u.t.Helper()
	var out exported
	if err := json.Unmarshal([]byte(u.ok("--offline", "show", list, "--json").stdout), &out); err != nil {
		u.t.Fatal(err)
	}
	return out
}

// TestDeleteAListForEveryone: Alice deletes a shared list; without --force
// the command only says what it would do. Bob, who added an item without
// having seen the delete, sees the list as deleted by Alice, can still
// export it whole (his item included), cannot edit it, and can forget it;
// a restore brings it back for everyone.
func TestDeleteAListForEveryone(t *testing.T) {
	c := testcluster.Start(t, 3)
	alice, bob := newUser(t, c.Endpoint()), newUser(t, c.Endpoint())
	alice.ok("config", "set", "name", "Alice")
	bob.ok("config", "set", "name", "Bob")
	id := alice.newList("Party")
	alice.ok("add", id, "chips", "2")
	bob.ok("join", id)

	wantErr(t, alice.run("delete", "Party"), 1, "--force")
	if got := alice.lists(); len(got) != 1 || got[0].Deleted {
		t.Fatalf("delete without --force changed the list: %+v", got)
	}
	bob.ok("--offline", "add", id, "soda") // concurrent with the delete
	r := alice.ok("delete", "Party", "--force")
	if !strings.Contains(r.stdout, `deleted "Party" for everyone`) {
		t.Fatalf("delete printed %q", r.stdout)
	}
	wantErr(t, alice.run("--offline", "add", id, "dip"), 1, "was deleted by you")
	wantErr(t, alice.run("--offline", "delete", id, "--force"), 1, "already deleted by you")

	bob.ok("sync") // pushes soda, pulls the delete
	l := bob.lists()
	if len(l) != 1 || !l[0].Deleted || l[0].DeletedBy != "Alice" || l[0].DeletedAt == "" {
		t.Fatalf("bob's lists --json: %+v", l)
	}
	if line := bob.ok("--offline", "lists").stdout; !strings.HasSuffix(strings.TrimSpace(line), "\tdeleted by Alice") {
		t.Fatalf("bob's lists line: %q", line)
	}
	ex := bob.export(id)
	if !ex.Deleted || ex.DeletedBy != "Alice" || len(ex.Items) != 2 {
		t.Fatalf("bob's export of the deleted list: %+v", ex)
	}
	if text := bob.ok("--offline", "show", id).stdout; !strings.Contains(strings.SplitN(text, "\n", 2)[0], "deleted by Alice") {
		t.Fatalf("show's first line does not say who deleted it: %q", text)
	}
	wantErr(t, bob.run("--offline", "buy", id, "chips"), 1, "was deleted by Alice")

	bob.ok("restore", id)
	alice.ok("sync")
	if got := alice.lists(); got[0].Deleted || got[0].DeletedBy != "" || got[0].DeletedAt != "" {
		t.Fatalf("alice after bob's restore: %+v", got)
	}
	if got := alice.export(id); len(got.Items) != 2 {
		t.Fatalf("restored list: %+v", got)
	}
	wantErr(t, alice.run("--offline", "restore", id), 1, "not deleted")
	alice.ok("--offline", "add", id, "dip")

	alice.ok("delete", id, "--force")
	bob.ok("sync")
	bob.ok("forget", id)
	if got := bob.lists(); len(got) != 0 {
		t.Fatalf("bob forgot the deleted list but still has %+v", got)
	}
}

// TestNamesSignEdits: config set name is remembered and shown; show --json
// names the author of each item's latest change, as each side sees it
// after a sync; a bad name is a usage error.
func TestNamesSignEdits(t *testing.T) {
	c := testcluster.Start(t, 3)
	alice, bob := newUser(t, c.Endpoint()), newUser(t, c.Endpoint())
	if out := alice.ok("config").stdout; !strings.Contains(out, "name\t(none") {
		t.Fatalf("config before a name is set: %q", out)
	}
	alice.ok("config", "set", "name", "Alice", "B.")
	var cfg struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal([]byte(alice.ok("config", "--json").stdout), &cfg); err != nil || cfg.Name != "Alice B." {
		t.Fatalf("config --json: %+v, %v", cfg, err)
	}
	if out := alice.ok("config").stdout; !strings.Contains(out, "name\tAlice B.\n") {
		t.Fatalf("config: %q", out)
	}
	id := alice.newList("Shop")
	alice.ok("add", id, "milk", "bread")
	bob.ok("join", id)
	bob.ok("config", "set", "name", "Bob")
	bob.ok("buy", id, "milk")
	alice.ok("sync")
	by := map[string]string{}
	for _, it := range alice.export(id).Items {
		by[it.Name] = it.Author
	}
	if by["milk"] != "Bob" || by["bread"] != "Alice B." {
		t.Fatalf("authors as alice sees them: %v", by)
	}

	wantErr(t, alice.run("config", "set", "name", strings.Repeat("x", 33)), 2, "at most 32 bytes")
	wantErr(t, alice.run("config", "set", "name", "a\x1bb"), 2, "control character")
	wantErr(t, alice.run("config", "set", "name"), 2, "config set name NAME")
}
