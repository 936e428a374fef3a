package storage

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// TestSaveMergeIfWritesNothingWhenRefused: a refusal by the check writes
// nothing and comes back as the check's error; a check that passes writes
// as SaveMerge does.
func TestSaveMergeIfWritesNothingWhenRefused(t *testing.T) {
	s := openTemp(t)
	l := newList(t, crdt.NewClock(uuid.New()), "groceries", "milk")
	no := errors.New("not an owner")
	if _, err := s.SaveMergeIf(l, func() error { return no }); !errors.Is(err, no) {
		t.Fatalf("refused write: %v, want the check's error", err)
	}
	if has, err := s.Has(l.ID()); err != nil || has || s.ListCount() != 0 {
		t.Fatalf("after a refused write: stored %v (%v), %d lists indexed", has, err, s.ListCount())
	}
	if changed, err := s.SaveMergeIf(l, func() error { return nil }); err != nil || !changed {
		t.Fatalf("admitted write: changed %v, %v", changed, err)
	}
	sameState(t, "admitted write", mustLoad(t, s, l.ID()), l)
}

// TestFenceWaitsForAWriteCheckedBeforeIt: a write whose check has run, and
// which has not committed yet, holds Fence up; once Fence returns, the
// write is committed and in the index that a scan reads.
func TestFenceWaitsForAWriteCheckedBeforeIt(t *testing.T) {
	s := openTemp(t)
	l := newList(t, crdt.NewClock(uuid.New()), "groceries", "milk")
	checked, release := make(chan struct{}), make(chan struct{})
	saved := make(chan error, 1)
	go func() {
		_, err := s.SaveMergeIf(l, func() error {
			close(checked)
			<-release
			return nil
		})
		saved <- err
	}()
	<-checked
	scanned := make(chan []ListPos, 1)
	go func() {
		s.Fence()
		scanned <- s.ListPositions()
	}()
	// Fence must not return while the write holds its list's lock; a
	// broken Fence returns at once, well within this window.
	select {
	case got := <-scanned:
		t.Fatalf("Fence returned while a checked write was still to commit; the scan found %d lists", len(got))
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if got := <-scanned; len(got) != 1 || got[0].List != l.ID() {
		t.Fatalf("the scan after Fence found %v, want the list written", got)
	}
	if err := <-saved; err != nil {
		t.Fatal(err)
	}
}
