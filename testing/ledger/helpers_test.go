package ledger

import (
	"testing"

	"github.com/google/uuid"

	"shoplist/crdt"
)

var (
	listID   = uuid.MustParse("11111111-1111-4111-8111-111111111111")
	replicaA = uuid.MustParse("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa")
	replicaB = uuid.MustParse("bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb")
	replicaC = uuid.MustParse("cccccccc-cccc-4ccc-8ccc-cccccccccccc")
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// stored is the state the cluster holds: the merge of the deltas that
// landed.
func stored(t *testing.T, landed ...*crdt.List) *crdt.List {
	t.Helper()
	s := crdt.Empty(listID)
	for _, d := range landed {
		must(t, s.Merge(d))
	}
	return s
}
