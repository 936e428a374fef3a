package crdt

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/uuid"
)

// fakeTime is a settable wall clock for tests.
type fakeTime struct{ t time.Time }

func (f *fakeTime) now() time.Time               { return f.t }
func (f *fakeTime) advance(d time.Duration)      { f.t = f.t.Add(d) }
func newFakeTime(offset time.Duration) *fakeTime { return &fakeTime{t: base.Add(offset)} }

// base is a fixed instant so that stamps are reproducible.
var base = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// replicaID returns a deterministic replica ID for test replica n.
func replicaID(n byte) uuid.UUID { return uuid.UUID{15: n, 0: 0xaa} }

// listID is a fixed version-4 list ID.
var listID = uuid.MustParse("3f8a4c1e-5b7d-4e2a-9c61-0d2b8e7f4a10")

// replica is a test replica: a clock and a list.
type replica struct {
	clock *Clock
	time  *fakeTime
	list  *List
}

func newReplica(n byte, skew time.Duration) *replica {
	ft := newFakeTime(skew)
	return &replica{clock: NewClockWith(replicaID(n), ft.now), time: ft, list: Empty(listID)}
}

// receive merges a copy of o into r, as a replica does on sync.
func (r *replica) receive(t *testing.T, o *List) {
	t.Helper()
	if err := r.list.Merge(o.Clone()); err != nil {
		t.Fatalf("merge: %v", err)
	}
}

func mustItem(t *testing.T, l *List, name string) ItemView {
	t.Helper()
	v, ok := l.Lookup(name)
	if !ok {
		t.Fatalf("item %q missing; items: %+v", name, l.Items())
	}
	return v
}

func sameBytes(t *testing.T, what string, a, b *List) {
	t.Helper()
	if ea, eb := a.Encode(), b.Encode(); !bytes.Equal(ea, eb) {
		t.Fatalf("%s: encodings differ:\n a=%x\n b=%x", what, ea, eb)
	}
}
