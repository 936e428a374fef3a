package server

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"shoplist/crdt"
	"shoplist/storage"
	"shoplist/testing/diskfault"
)

// runRepair runs `server repair` with args and returns its exit code,
// stdout and stderr.
func runRepair(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr strings.Builder
	code := Main(context.Background(), append([]string{"repair"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// damagedStore makes dir a store holding a sound list and a list whose milk
// part was damaged and which a store that does not heal has marked
// damaged, as an earlier release left it.
func damagedStore(t *testing.T, dir string) (damaged, sound *crdt.List) {
	t.Helper()
	open := func() *storage.Store {
		st, err := storage.Open(dir, storage.Options{Logger: testLogger(t)})
		must(t, err)
		return st
	}
	st := open()
	damaged, sound = newList(t, time.Now, "milk", "eggs"), newList(t, time.Now, "tea")
	for _, l := range []*crdt.List{damaged, sound} {
		_, err := st.SaveMerge(l)
		must(t, err)
	}
	must(t, st.Close())
	_, err := diskfault.FlipValue(dir, damaged.ID(), "milk")
	must(t, err)
	st = open()
	if _, err := st.Load(damaged.ID()); !errors.Is(err, storage.ErrCorrupt) {
		t.Fatalf("Load of the damaged list: %v, want ErrCorrupt", err)
	}
	must(t, st.Close())
	return damaged, sound
}

// TestServerRepairListsRepairsAndClears: `server repair` lists the damaged
// lists and quarantined values of a stopped server's store, repairs a list
// (its good parts stay), clears the quarantine, and refuses a store in use.
func TestServerRepairListsRepairsAndClears(t *testing.T) {
	dir := t.TempDir()
	damaged, sound := damagedStore(t, dir)
	id := damaged.ID().String()

	code, out, errOut := runRepair(t, "--data", dir)
	for _, want := range []string{"damaged lists: 1", "  " + id, "quarantined values: 1", `list ` + id + ` item "milk"`, "checksum mismatch"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("listing: exit %d, output lacks %q:\n%s%s", code, want, out, errOut)
		}
	}

	held, err := storage.Open(dir, storage.Options{Logger: testLogger(t)})
	must(t, err)
	if code, _, errOut := runRepair(t, "--data", dir, "--repair", "all"); code != 1 || !strings.Contains(errOut, "stop the server first") {
		t.Fatalf("repair of a store in use: exit %d, %q", code, errOut)
	}
	must(t, held.Close())

	if code, out, errOut := runRepair(t, "--data", dir, "--repair", "all"); code != 0 || !strings.Contains(out, "list "+id+": dropped 1 corrupt parts") {
		t.Fatalf("--repair all: exit %d:\n%s%s", code, out, errOut)
	}
	if code, out, _ := runRepair(t, "--data", dir); code != 0 || !strings.Contains(out, "damaged lists: 0") || !strings.Contains(out, "quarantined values: 1") {
		t.Fatalf("listing after the repair: exit %d:\n%s", code, out)
	}
	if code, out, errOut := runRepair(t, "--data", dir, "--clear", id); code != 0 || !strings.Contains(out, "deleted 1 quarantined values") {
		t.Fatalf("--clear: exit %d:\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runRepair(t, "--data", dir, "--discard", sound.ID().String()); code != 0 || !strings.Contains(out, "dropped whole (0 corrupt parts quarantined)") {
		t.Fatalf("--discard: exit %d:\n%s%s", code, out, errOut)
	}

	st, err := storage.Open(dir, storage.Options{Logger: testLogger(t)})
	must(t, err)
	defer st.Close()
	got, err := st.Load(damaged.ID())
	must(t, err)
	if keys := strings.Join(got.ItemKeys(), ","); keys != "eggs" {
		t.Fatalf("after --repair the list holds %q, want its good part, eggs", keys)
	}
	if _, err := st.Load(sound.ID()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("after --discard: %v, want ErrNotFound", err)
	}
	if q, err := st.Quarantined(); err != nil || len(q) != 0 {
		t.Fatalf("quarantine after --clear: %v, %v", q, err)
	}
}

func TestServerRepairRefusesBadUsage(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{nil, 2, "--data is required"},
		{[]string{"--data", dir, "--repair", "all", "--clear", "all"}, 2, "at most one"},
		{[]string{"--data", dir, "--discard", "all"}, 2, "one list ID"},
		{[]string{"--data", dir}, 1, "no store in"},
	} {
		code, _, errOut := runRepair(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.says) {
			t.Errorf("repair %q: exit %d, %q; want %d saying %q", c.args, code, errOut, c.code, c.says)
		}
	}
	damagedStore(t, dir)
	if code, _, errOut := runRepair(t, "--data", dir, "--repair", "milk"); code != 1 || !strings.Contains(errOut, "not a list ID") {
		t.Errorf("--repair milk: exit %d, %q", code, errOut)
	}
}
