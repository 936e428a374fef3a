package placement

import (
	"slices"
	"testing"

	"shoplist/hashring"
	"shoplist/protocol"
)

func TestViewMembersAndEpochBody(t *testing.T) {
	v := View{Ring: hashring.New([]string{"s3", "s1"}, hashring.WithVNodes(5)), Epoch: 7, Leaving: []string{"s2"}}
	for id, want := range map[string][3]bool{ // Has, Active, IsLeaving
		"s1": {true, true, false},
		"s2": {true, false, true},
		"s4": {false, false, false},
	} {
		if got := [3]bool{v.Has(id), v.Active(id), v.IsLeaving(id)}; got != want {
			t.Errorf("%s: Has, Active, IsLeaving = %v, want %v", id, got, want)
		}
	}
	b := v.EpochBody(3)
	want := []protocol.Member{{ID: "s1", State: protocol.MemberUp}, {ID: "s2", State: protocol.MemberLeaving}, {ID: "s3", State: protocol.MemberUp}}
	if b.Epoch != 7 || b.N != 3 || b.VNodes != 5 || !slices.Equal(b.Members, want) {
		t.Fatalf("EpochBody(3) = %+v, want epoch 7, N 3, 5 vnodes, members %v", b, want)
	}
	if _, err := b.Encode(); err != nil {
		t.Fatalf("the body does not encode: %v", err)
	}
	// A Registry's view: no leaving members.
	if b := (View{Ring: hashring.New(nil), Epoch: 1}).EpochBody(1); len(b.Members) != 0 || b.VNodes != hashring.DefaultVNodes {
		t.Fatalf("empty ring's body %+v", b)
	}
}
