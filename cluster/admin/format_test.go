package admin

import (
	"strings"
	"testing"

	"shoplist/cluster/proxy"
	"shoplist/hashring"
)

// TestWriteStatusShowsCorruption: the servers' table has their heals and
// damaged lists, and notes say which server started on an empty store and
// which one needs an operator.
func TestWriteStatusShowsCorruption(t *testing.T) {
	st := Status{Proxy: &proxy.Status{Servers: []proxy.ServerStatus{
		{ID: "s1", State: "active", Up: true, Reported: true, Lists: 4},
		{ID: "s2", State: "active", Up: true, Reported: true, Lists: 2, Healed: 5, Reset: true},
		{ID: "s3", State: "active", Up: true, Reported: true, Lists: 3, Damaged: 2},
		{ID: "s4", State: "active"},
	}}}
	var b strings.Builder
	if err := WriteStatus(&b, st); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	row := func(id string) []string {
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) > 0 && f[0] == id {
				return f
			}
		}
		t.Fatalf("no row for %s in:\n%s", id, out)
		return nil
	}
	header := strings.Fields(strings.SplitN(out[strings.Index(out, "SERVER"):], "\n", 2)[0])
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for id, want := range map[string][2]string{"s1": {"0", "0"}, "s2": {"5", "0"}, "s3": {"0", "2"}, "s4": {"?", "?"}} {
		r := row(id)
		if r[col["HEALED"]] != want[0] || r[col["DAMAGED"]] != want[1] {
			t.Errorf("%s: healed %s, damaged %s; want %v\n%s", id, r[col["HEALED"]], r[col["DAMAGED"]], want, out)
		}
	}
	for _, note := range []string{
		"note:    s2 started on an empty store",
		"note:    s3 refuses 2 damaged lists: stop it and run `server repair --data DIR`",
	} {
		if !strings.Contains(out, note) {
			t.Errorf("status lacks %q:\n%s", note, out)
		}
	}
	if strings.Contains(out, "note:    s1") || strings.Contains(out, "note:    s4") {
		t.Errorf("a note about a server with nothing to say:\n%s", out)
	}
}

// TestTheShareColumnSumsToAHundredPercent: three servers that each own the
// whole ring as one of N = 3 owners hold a third of the replicas each, and
// the detail lines count in the singular where there is one.
func TestTheShareColumnSumsToAHundredPercent(t *testing.T) {
	var servers []proxy.ServerStatus
	for _, id := range []string{"s1", "s2", "s3"} {
		servers = append(servers, proxy.ServerStatus{ID: id, State: "active", Up: true,
			Positions: []uint64{1}, Ranges: make([]hashring.Range, 1), Share: 1})
	}
	var b strings.Builder
	if err := WriteStatus(&b, Status{Proxy: &proxy.Status{Servers: servers}}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if got := strings.Count(out, "33.3%"); got != 3 || strings.Contains(out, "100.0%") {
		t.Errorf("want each server at 33.3%% of the replicas:\n%s", out)
	}
	if !strings.Contains(out, "s1: 1 virtual node, owns 1 range (100.00% of the ring") {
		t.Errorf("want singular counts in the detail lines:\n%s", out)
	}
}
