package storage

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// healOptions are testOptions for a self-healing store.
func healOptions(t testing.TB) Options {
	o := testOptions(t)
	o.SelfHeal = true
	return o
}

// openHealing opens a self-healing store in dir, closed at the end of the
// test.
func openHealing(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir, healOptions(t))
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// flipPayload damages the stored value at key as a disk would: one bit of
// its payload, so that its checksum fails.
func flipPayload(t *testing.T, s *Store, key []byte) []byte {
	t.Helper()
	v := rawGet(t, s, key)
	v[len(v)-2] ^= 0x04
	rawSet(t, s, key, v)
	return v
}

// withoutItem returns a copy of l without item: what is left of l once the
// item's part is dropped.
func withoutItem(t *testing.T, l *crdt.List, item string) *crdt.List {
	t.Helper()
	out := crdt.Empty(l.ID())
	for _, p := range l.Split() {
		if keys := p.ItemKeys(); len(keys) == 1 && keys[0] == item {
			continue
		}
		if err := out.Merge(p); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestSelfHealDropsADamagedValueAndTheListIsWholeAgainByMerging: a read
// that meets a value failing its checksum keeps a copy in the quarantine,
// drops it, serves what is left, and the full state of another replica
// makes the list whole; nothing stays damaged.
func TestSelfHealDropsADamagedValueAndTheListIsWholeAgainByMerging(t *testing.T) {
	dir := t.TempDir()
	s := openHealing(t, dir)
	c := crdt.NewClock(uuid.New())
	l := newList(t, c, "list", "milk", "eggs", "bread")
	other := newList(t, c, "other", "tea")
	mustSave(t, s, l)
	mustSave(t, s, other)
	milk := keyOf(l.ID()).itemKey("milk")
	bad := flipPayload(t, s, milk)

	got, err := s.Load(l.ID())
	if err != nil {
		t.Fatalf("Load of a list with a damaged value: %v, want what is left of it", err)
	}
	sameState(t, "after the heal", got, withoutItem(t, l, "milk"))
	if s.Heals() != 1 || s.DamagedCount() != 0 {
		t.Fatalf("Heals = %d, DamagedCount = %d; want 1 and 0", s.Heals(), s.DamagedCount())
	}
	if _, closer, err := s.db.Get(milk); err == nil {
		closer.Close()
		t.Fatal("the damaged value is still stored")
	}
	q, err := s.Quarantined()
	if err != nil || len(q) != 1 || !bytes.Equal(q[0].Value, bad) || !strings.Contains(q[0].Reason, "checksum") {
		t.Fatalf("Quarantined = %+v, %v; want the damaged value with its reason", q, err)
	}
	if enc, err := s.LoadEncoded(l.ID()); err != nil || !bytes.Equal(enc, got.Encode()) {
		t.Fatalf("LoadEncoded after the heal: %v", err)
	}

	// Another replica's state makes it whole; the other list was never
	// touched.
	if !mustSave(t, s, l) {
		t.Fatal("merging the full state after the heal changed nothing")
	}
	sameState(t, "made whole", mustLoad(t, s, l.ID()), l)
	sameState(t, "other list", mustLoad(t, s, other.ID()), other)
	if s.Heals() != 1 {
		t.Fatalf("Heals = %d after a sound read, want 1", s.Heals())
	}

	// The quarantine copy outlives a restart.
	s.Close()
	s = openHealing(t, dir)
	if q, err := s.Quarantined(); err != nil || len(q) != 1 {
		t.Fatalf("Quarantined after reopening = %v, %v", q, err)
	}
	sameState(t, "after reopening", mustLoad(t, s, l.ID()), l)
}

// TestSelfHealLetsAWriteThroughAtOnce: a write whose merge meets a damaged
// value (the part it merges into, or the name part holding the floor,
// which a store opened after the damage reads) heals the list and is
// stored, durably, on what is left.
func TestSelfHealLetsAWriteThroughAtOnce(t *testing.T) {
	for _, part := range []string{"milk", "the name part"} {
		t.Run(part, func(t *testing.T) {
			dir := t.TempDir()
			s := openHealing(t, dir)
			c := crdt.NewClock(uuid.New())
			l := newList(t, c, "list", "milk", "eggs")
			mustSave(t, s, l)
			k := keyOf(l.ID())
			key := k.itemKey("milk")
			if part != "milk" {
				key = k.nameKey()
			}
			flipPayload(t, s, key)
			s.Close()
			s = openHealing(t, dir)

			before := l.MaxStamp()
			if err := l.Add(c, "milk", 2); err != nil {
				t.Fatal(err)
			}
			delta := l.Delta(before)
			if _, err := s.SaveMerge(delta); err != nil {
				t.Fatalf("SaveMerge into a list with a damaged %s: %v, want it healed and merged", part, err)
			}
			if s.Heals() != 1 || s.DamagedCount() != 0 {
				t.Fatalf("Heals = %d, DamagedCount = %d; want 1 and 0", s.Heals(), s.DamagedCount())
			}
			s.Close()
			s = openHealing(t, dir)
			got := mustLoad(t, s, l.ID())
			if ok, err := contains(got, delta); err != nil || !ok {
				t.Fatalf("the acknowledged write is not in the stored state after a restart (%v)", err)
			}
			mustSave(t, s, l)
			sameState(t, "made whole", mustLoad(t, s, l.ID()), l)
		})
	}
}

// TestSelfHealOfAWholeListLeavesNothingAndTheDigestsLackIt: when every
// value of a list is damaged, the heal leaves nothing: the list is not
// found, not counted and not in the digests, so anti-entropy sees it
// missing here.
func TestSelfHealOfAWholeListLeavesNothingAndTheDigestsLackIt(t *testing.T) {
	s := openHealing(t, t.TempDir())
	c := crdt.NewClock(uuid.New())
	l := newList(t, c, "list", "milk")
	mustSave(t, s, l)
	k := keyOf(l.ID())
	flipPayload(t, s, k.nameKey())
	flipPayload(t, s, k.itemKey("milk"))

	digests, skipped, err := s.Digests(0, 0)
	if err != nil || skipped != 0 || len(digests) != 0 {
		t.Fatalf("Digests = %v, %d skipped, %v; want nothing (the list was healed away)", digests, skipped, err)
	}
	if _, err := s.Load(l.ID()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load after healing every part: %v, want ErrNotFound", err)
	}
	if s.ListCount() != 0 || s.Heals() != 1 {
		t.Fatalf("ListCount = %d, Heals = %d; want 0 and 1", s.ListCount(), s.Heals())
	}
	if q, err := s.Quarantined(); err != nil || len(q) != 2 {
		t.Fatalf("Quarantined = %d entries, %v; want both values", len(q), err)
	}
}

// TestSelfHealLeavesWhatItCannotProveDamagedToAnOperator: a value whose
// checksum holds but that is not the part its key names, does not decode
// or has an unknown version is what a program wrote; it is not dropped,
// and the list stays refused as without self-healing, until Repair.
func TestSelfHealLeavesWhatItCannotProveDamagedToAnOperator(t *testing.T) {
	c := crdt.NewClock(uuid.New())
	l, cases := corruptionCases(t, c)
	healed := map[string]bool{"truncated": true, "empty": true, "flipped bit": true}
	for name, corrupt := range cases {
		t.Run(name, func(t *testing.T) {
			s := openHealing(t, t.TempDir())
			mustSave(t, s, l)
			key, value := corrupt(s)
			rawSet(t, s, key, value)

			_, err := s.Load(l.ID())
			if healed[name] {
				if err != nil || s.Heals() != 1 {
					t.Fatalf("Load: %v, %d heals; want damaged bytes healed", err, s.Heals())
				}
				return
			}
			wantCorrupt(t, "Load", err, key)
			if s.Heals() != 0 || s.DamagedCount() != 1 {
				t.Fatalf("Heals = %d, DamagedCount = %d; want 0 and 1", s.Heals(), s.DamagedCount())
			}
			_, err = s.SaveMerge(l)
			wantCorrupt(t, "SaveMerge", err, nil)
			if got := rawGet(t, s, key); !bytes.Equal(got, value) {
				t.Fatal("a value that is not damaged bytes was overwritten or dropped")
			}
			if _, err := s.Repair(l.ID()); err != nil {
				t.Fatal(err)
			}
			mustSave(t, s, l)
			sameState(t, "after the operator's Repair", mustLoad(t, s, l.ID()), l)
			if s.DamagedCount() != 0 {
				t.Fatalf("DamagedCount = %d after Repair", s.DamagedCount())
			}
		})
	}
}

// TestSelfHealTakesOverAListMarkedDamagedBefore: a list marked damaged by
// a store that did not heal (an earlier release, say) is healed by the
// first write once the store heals.
func TestSelfHealTakesOverAListMarkedDamagedBefore(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	c := crdt.NewClock(uuid.New())
	l := newList(t, c, "list", "milk", "eggs")
	mustSave(t, s, l)
	flipPayload(t, s, keyOf(l.ID()).itemKey("milk"))
	if _, err := s.Load(l.ID()); !errors.Is(err, ErrCorrupt) || s.DamagedCount() != 1 {
		t.Fatalf("Load without self-healing: %v, %d damaged; want ErrCorrupt and the list marked", err, s.DamagedCount())
	}
	s.Close()

	s = openHealing(t, dir)
	if s.DamagedCount() != 1 {
		t.Fatalf("DamagedCount after reopening = %d, want 1", s.DamagedCount())
	}
	mustSave(t, s, l)
	sameState(t, "healed and merged", mustLoad(t, s, l.ID()), l)
	if s.DamagedCount() != 0 || s.Heals() != 1 {
		t.Fatalf("DamagedCount = %d, Heals = %d; want 0 and 1", s.DamagedCount(), s.Heals())
	}
}

// TestSelfHealNeverDropsAnAcknowledgedWrite: each round damages a value,
// then readers (which heal from a snapshot read before they lock) race
// writers that merge into the same part; every write acknowledged in the
// round is in the state after it. A heal that dropped what it had read
// instead of what is stored when it locks would delete a write that healed
// first and was acknowledged.
func TestSelfHealNeverDropsAnAcknowledgedWrite(t *testing.T) {
	s := openHealing(t, t.TempDir())
	c := crdt.NewClock(uuid.New())
	l := newList(t, c, "list", "milk", "eggs")
	mustSave(t, s, l)
	milk := keyOf(l.ID()).itemKey("milk")
	const rounds, writers, readers = 40, 4, 4
	for round := range rounds {
		flipPayload(t, s, milk) // no writer runs: as a disk would, between writes
		var wg sync.WaitGroup
		acked := make([]*crdt.List, writers)
		errs := make(chan error, writers+readers)
		for w := range writers {
			wg.Go(func() {
				wc := crdt.NewClock(uuid.New())
				mine := l.Clone()
				before := mine.MaxStamp()
				if err := mine.Add(wc, "milk", int64(w+1)); err != nil {
					errs <- err
					return
				}
				delta := mine.Delta(before)
				if _, err := s.SaveMerge(delta); err != nil {
					errs <- fmt.Errorf("round %d writer %d: %w", round, w, err)
					return
				}
				acked[w] = delta
			})
		}
		for range readers {
			wg.Go(func() {
				if _, err := s.Load(l.ID()); err != nil {
					errs <- fmt.Errorf("round %d reader: %w", round, err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		got := mustLoad(t, s, l.ID())
		for w, delta := range acked {
			if ok, err := contains(got, delta); err != nil || !ok {
				t.Fatalf("round %d: writer %d's acknowledged write is not in the stored state (%v)", round, w, err)
			}
		}
	}
	if s.Heals() == 0 || s.DamagedCount() != 0 {
		t.Fatalf("Heals = %d, DamagedCount = %d", s.Heals(), s.DamagedCount())
	}
}
