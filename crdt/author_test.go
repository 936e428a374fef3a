package crdt

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestEditsAreSignedWithTheAuthor(t *testing.T) {
	a, b := newReplica(1, 0), newReplica(2, 0)
	must(t, a.clock.SetAuthor("  Alice  "))
	if a.clock.Author() != "Alice" {
		t.Fatalf("author %q, want it trimmed", a.clock.Author())
	}
	must(t, b.clock.SetAuthor("Bob"))
	must(t, a.list.Add(a.clock, "milk", 2))
	if v := mustItem(t, a.list, "milk"); v.By() != "Alice" {
		t.Fatalf("added by %q, want Alice (%+v)", v.By(), v)
	}
	b.receive(t, a.list)
	b.time.advance(time.Second)
	must(t, b.list.Buy(b.clock, "milk", 1))
	a.receive(t, b.list)
	if v := mustItem(t, a.list, "milk"); v.By() != "Bob" || v.Author != "Bob" {
		t.Fatalf("bought by %q, want Bob", v.By())
	}
	for what, edit := range map[string]func() error{
		"note":     func() error { return a.list.SetNote(a.clock, "milk", "semi") },
		"category": func() error { return a.list.SetCategory(a.clock, "milk", "Dairy") },
		"set":      func() error { return a.list.SetWanted(a.clock, "milk", 3) },
		"decrease": func() error { return a.list.Decrease(a.clock, "milk", 1) },
		"unbuy":    func() error { return a.list.Unbuy(a.clock, "milk", 1) },
	} {
		must(t, b.clock.SetAuthor("Bob"))
		a.receive(t, b.list)
		must(t, edit())
		if v := mustItem(t, a.list, "milk"); v.By() != "Alice" {
			t.Fatalf("%s: by %q, want Alice", what, v.By())
		}
		b.receive(t, a.list)
		b.time.advance(time.Second)
		must(t, b.list.Add(b.clock, "milk", 1))
	}
	must(t, a.list.Remove(a.clock, "milk"))
	if it := a.list.items["milk"]; it.author.value != "Alice" || it.author.at != it.removed {
		t.Fatalf("remove not signed: %+v", it.author)
	}
}

// A replica without a name writes no author: its lists encode as before.
// Once an item has an author, an unnamed edit clears the name, so the
// earlier author is not credited with it.
func TestUnnamedEditsWriteNoAuthorUntilOneIsThere(t *testing.T) {
	a, b := newReplica(1, 0), newReplica(2, 0)
	must(t, a.list.Add(a.clock, "milk", 1))
	if it := a.list.items["milk"]; !it.author.at.IsZero() {
		t.Fatalf("unnamed edit wrote an author: %+v", it.author)
	}
	if enc := a.list.Encode(); enc[0] != 0x96 || !bytes.Contains(enc, []byte{0x9c, 0xa4, 'm', 'i', 'l', 'k'}) {
		t.Fatalf("unsigned list does not encode as before: %x", enc)
	}
	must(t, b.clock.SetAuthor("Bob"))
	b.receive(t, a.list)
	must(t, b.list.Buy(b.clock, "milk", 1))
	a.receive(t, b.list)
	a.time.advance(time.Second)
	must(t, a.list.Unbuy(a.clock, "milk", 1))
	v := mustItem(t, a.list, "milk")
	if v.By() != "" || v.AuthorAt != v.Modified {
		t.Fatalf("unnamed unbuy after Bob's buy: by %q, %+v", v.By(), v)
	}
	back, err := Decode(a.list.Encode())
	must(t, err)
	sameBytes(t, "round trip with an empty author", back, a.list)

	// A concurrent unnamed edit that had no author to clear: the latest
	// edit is not Bob's, so nobody is credited.
	c := newReplica(3, time.Hour)
	c.receive(t, Empty(listID))
	must(t, c.list.Add(c.clock, "bread", 1))
	d := newReplica(4, 0)
	must(t, d.clock.SetAuthor("Dee"))
	must(t, d.list.Add(d.clock, "bread", 1))
	m := join(t, c.list, d.list)
	if v := mustItem(t, m, "bread"); v.Author != "Dee" || v.By() != "" {
		t.Fatalf("bread: author %q, by %q; want Dee's register but nobody credited", v.Author, v.By())
	}
}

func TestCheckAuthor(t *testing.T) {
	for _, bad := range []string{"", "   ", "a\x1b[31m", "a\xff", strings.Repeat("x", MaxAuthorBytes+1)} {
		if _, err := CheckAuthor(bad); !errors.Is(err, ErrInvalidName) {
			t.Errorf("CheckAuthor(%q) = %v, want ErrInvalidName", bad, err)
		}
		if err := NewClock(replicaID(1)).SetAuthor(bad); bad != "" && !errors.Is(err, ErrInvalidName) {
			t.Errorf("SetAuthor(%q) = %v", bad, err)
		}
	}
	if n, err := CheckAuthor(" Anna  Lena "); err != nil || n != "Anna Lena" {
		t.Fatalf("CheckAuthor = %q, %v", n, err)
	}
	c := NewClock(replicaID(1))
	must(t, c.SetAuthor("x"))
	must(t, c.SetAuthor(""))
	if c.Author() != "" {
		t.Fatal("an empty name does not clear the author")
	}
}

// TestMergeCompleteDropsAnAuthorOfADroppedEdit: an edit made offline
// before the cluster's floor and never pushed is dropped, and its author
// with it, so nobody is credited with what did not happen.
func TestMergeCompleteDropsAnAuthorOfADroppedEdit(t *testing.T) {
	rs := shared(t, 2, "bread")
	cluster, away := rs[0], rs[1]
	must(t, away.clock.SetAuthor("Away"))
	must(t, away.list.Buy(away.clock, "bread", 1))
	cluster.time.advance(time.Hour)
	must(t, cluster.list.Add(cluster.clock, "jam", 1))
	cluster.list.Compact(cluster.list.MaxStamp())

	_, err := away.list.MergeComplete(cluster.list)
	must(t, err)
	if v := mustItem(t, away.list, "bread"); v.Bought != 0 || v.Author != "" || !v.AuthorAt.IsZero() {
		t.Fatalf("bread after the merge: %+v, want the offline buy and its author dropped", v)
	}
	if _, err := Decode(away.list.Encode()); err != nil {
		t.Fatal(err)
	}
}
