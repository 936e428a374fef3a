package server

import (
	"slices"
	"testing"

	"github.com/google/uuid"

	"shoplist/hashring"
	"shoplist/storage"
)

// TestEachMovedListIsSentOncePerNewOwner: for a ring change, the rebalance
// passes of every old owner of a list, taken together, send the list once
// to each of its new owners; an old owner that is no owner any more hints
// its copy to one owner that already had the list (so that what it holds
// reaches an owner before it lets the copy go), and nobody hints a server
// that is no owner.
func TestEachMovedListIsSentOncePerNewOwner(t *testing.T) {
	cases := []struct {
		name          string
		before, after []string // the placed servers
		n             int
	}{
		{"a server joins", []string{"s0", "s1", "s2", "s3"}, []string{"s0", "s1", "s2", "s3", "s4"}, 3},
		{"a server leaves", []string{"s0", "s1", "s2", "s3", "s4"}, []string{"s0", "s1", "s3", "s4"}, 3},
		{"a server is replaced", []string{"s0", "s1", "s2", "s3"}, []string{"s0", "s1", "s2", "s4"}, 3},
		{"two servers join", []string{"s0", "s1", "s2"}, []string{"s0", "s1", "s2", "s3", "s4"}, 3},
		{"N grows", []string{"s0", "s1", "s2", "s3"}, []string{"s0", "s1", "s2", "s3"}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prevN := tc.n
			if tc.name == "N grows" {
				prevN = 1
			}
			prev := &ownerRing{epoch: 1, ring: hashring.New(tc.before), n: prevN}
			cur := &ownerRing{epoch: 2, ring: hashring.New(tc.after), n: tc.n}
			moved, sends := 0, 0
			for range 2000 {
				id := uuid.New()
				pos := hashring.Position(id.String())
				before, owners := prev.ownersAt(pos), cur.ownersAt(pos)
				to := map[string][]string{} // target → the holders hinting it
				for _, holder := range before {
					s := &Server{id: holder}
					c := s.hintChange(storage.ListPos{List: id, Pos: pos}, owners, nil, prev)
					for _, o := range c.Add {
						to[o] = append(to[o], holder)
					}
					if !slices.Contains(owners, holder) && len(c.Add) == 0 {
						t.Fatalf("list %s: %s is no owner any more and hints its copy to nobody", id, holder)
					}
				}
				fresh := 0
				for _, o := range owners {
					if slices.Contains(before, o) {
						for _, h := range to[o] {
							if slices.Contains(owners, h) {
								t.Fatalf("list %s: owner %s hints it to %s, an owner already (before %v, after %v)", id, h, o, before, owners)
							}
						}
						continue
					}
					fresh++
					if len(to[o]) != 1 {
						t.Fatalf("list %s: new owner %s is sent it by %v, want exactly one old owner (before %v, after %v)", id, o, to[o], before, owners)
					}
				}
				for o, from := range to {
					if !slices.Contains(owners, o) {
						t.Fatalf("list %s: %v hint %s, which is no owner", id, from, o)
					}
					sends += len(from)
				}
				if fresh > 0 {
					moved++
				}
			}
			t.Logf("%d lists gained an owner; %d handoffs in all", moved, sends)
		})
	}
}
