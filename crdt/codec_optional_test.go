package crdt

import (
	"errors"
	"strings"
	"testing"
)

// The deletion and the author are optional fields (codec.go): present
// exactly when set, bounded and checked like the rest.
func TestDecodeChecksTheOptionalFields(t *testing.T) {
	ts := func(wall int64, rep byte) []byte {
		return Timestamp{Wall: wall, Replica: replicaID(rep)}.appendBinary(nil)
	}
	zero := make([]byte, timestampSize)
	id := listID[:]
	list := func(version int, del any) []byte {
		return enc(t, []any{version, id, "", zero, nil, del, []any{}})
	}
	item := func(author ...any) []any {
		it := []any{"a", "a", ts(5, 1), "", nil, "", nil, nil, nil, []any{[]any{ts(5, 1), nil, 1, 0, 0, 0}}, []any{}, nil}
		return append(it, author...)
	}
	withItem := func(it []any) []byte { return enc(t, []any{2, id, "", zero, nil, []any{it}}) }
	long := strings.Repeat("x", MaxAuthorBytes+1)
	cases := []struct {
		name string
		data []byte
		want error // nil: decodes
	}{
		{"deletion", list(2, []any{ts(5, 1), true, "Al"}), nil},
		{"restore without a name", list(2, []any{ts(5, 1), false, ""}), nil},
		{"deletion written as nil", list(2, nil), ErrMalformed},
		{"deletion without a stamp", list(2, []any{zero, true, "Al"}), ErrMalformed},
		{"deletion by a long name", list(2, []any{ts(5, 1), true, long}), ErrMalformed},
		{"deletion by an untrimmed name", list(2, []any{ts(5, 1), true, " Al"}), ErrMalformed},
		{"deletion by a control character", list(2, []any{ts(5, 1), true, "\x1b[2J"}), ErrMalformed},
		{"deletion flag not a bool", list(2, []any{ts(5, 1), 1, "Al"}), ErrMalformed},
		{"deletion of two fields", list(2, []any{ts(5, 1), true}), ErrMalformed},
		{"deletion in version 1", list(1, []any{ts(5, 1), true, "Al"}), ErrMalformed},
		{"list of eight fields", enc(t, []any{2, id, "", zero, nil, []any{ts(5, 1), true, ""}, nil, []any{}}), ErrMalformed},
		{"signed item", withItem(item([]any{"Al", ts(5, 1)})), nil},
		{"item signed without a name", withItem(item([]any{"", ts(5, 1)})), nil},
		{"author written as nil", withItem(item(nil)), ErrMalformed},
		{"author without a stamp", withItem(item([]any{"Al", zero})), ErrMalformed},
		{"author with a long name", withItem(item([]any{long, ts(5, 1)})), ErrMalformed},
		{"author untrimmed", withItem(item([]any{"Al ", ts(5, 1)})), ErrMalformed},
		{"author of three fields", withItem(item([]any{"Al", ts(5, 1), 1})), ErrMalformed},
		{"item of fourteen fields", withItem(item([]any{"Al", ts(5, 1)}, nil)), ErrMalformed},
		{"signed item in version 2 as first written", enc(t, []any{2, id, "", zero, []any{
			[]any{"a", "a", ts(5, 1), "", nil, "", nil, nil, nil, []any{[]any{ts(5, 1), 1, 0, 0, 0}}, []any{}, nil, []any{"Al", ts(5, 1)}},
		}}), ErrMalformed},
	}
	for _, tc := range cases {
		l, err := Decode(tc.data)
		switch {
		case tc.want == nil && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.want == nil:
			if again, err := Decode(l.Encode()); err != nil || string(again.Encode()) != string(tc.data) {
				t.Errorf("%s: does not re-encode to itself (%v)", tc.name, err)
			}
		case !errors.Is(err, tc.want) || l != nil:
			t.Errorf("%s: got (%v, %v), want %v", tc.name, l != nil, err, tc.want)
		}
	}
}

// signedDeletedList is goldenList edited by a named replica and deleted:
// every optional field set, for the fuzz corpus.
func signedDeletedList(t testing.TB) *List {
	l := goldenList(t)
	c := NewClockWith(replicaID(2), newFakeTime(0).now)
	must(t, c.SetAuthor("Bob"))
	must(t, l.Add(c, "milk", 1))
	must(t, l.SetNote(c, "milk", "semi-skimmed"))
	must(t, l.Delete(c))
	return l
}
