package ledger

import (
	"bytes"
	"testing"

	"shoplist/crdt"
)

// TestALedgerSurvivesItsEncoding: a decoded ledger judges as the original
// does and encodes to the same bytes.
func TestALedgerSurvivesItsEncoding(t *testing.T) {
	a := newWriter(t, "writer a", replicaA)
	b := newWriter(t, "writer b", replicaB)
	a.push(add("milk", 2), true)
	a.push(add("bread", 1), false)
	b.push(add("eggs", 6), true)
	led := all(a, b)

	enc, err := led.MarshalBinary()
	must(t, err)
	got := New()
	must(t, got.UnmarshalBinary(enc))
	again, err := got.MarshalBinary()
	must(t, err)
	if !bytes.Equal(enc, again) {
		t.Fatalf("re-encoded ledger differs:\n%s\n%s", enc, again)
	}
	for _, l := range []*Ledger{led, got} {
		if v := l.Check(listID, stored(t, a.state)); v.OK() {
			t.Fatalf("a state without b's acknowledged eggs passes: %v", v)
		}
		if v := l.Check(listID, stored(t, a.state, b.state)); !v.OK() {
			t.Fatalf("the merge of everything sent fails: %v", v)
		}
	}
	if at, ac := got.Counts(listID); at != 3 || ac != 2 {
		t.Fatalf("decoded counts: %d attempts, %d acks; want 3 and 2", at, ac)
	}
}

// TestALedgerRefusesARecordOfAnotherList: a record whose state belongs to
// another list than the one it names is refused.
func TestALedgerRefusesARecordOfAnotherList(t *testing.T) {
	l := New()
	l.Ack("writer", crdt.Empty(listID))
	enc, err := l.MarshalBinary()
	must(t, err)
	other := bytes.Replace(enc, []byte(listID.String()), []byte(replicaC.String()), 1)
	if err := New().UnmarshalBinary(other); err == nil {
		t.Fatal("a record naming another list than its states decoded")
	}
}
