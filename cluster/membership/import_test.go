package membership

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"

	"shoplist/cluster/placement"
)

// seedState is a configured state at epoch 7 with two members and one
// removed server, as a proxy's members.json might hold.
func seedState() *state {
	st := newState()
	st.epoch, st.n, st.vnodes = 7, 3, 3
	st.members["s1"], st.members["s3"] = Active, Active
	st.removed["s2"] = true
	return st
}

func TestImportCommandRoundTripsAndChecksItsState(t *testing.T) {
	c := importCommand(seedState())
	p := c.encode()
	if !bytes.Equal(p[:3], []byte{0x93, 0x01, 0x05}) || !bytes.Equal(p[3:], encodeState(seedState())) {
		t.Fatalf("import encodes to %x", p)
	}
	back, err := decodeCommand(p)
	if err != nil || back != c {
		t.Fatalf("decoded %+v, %v; want %+v", back, err, c)
	}
	// An import is not bound by MaxCommandSize: it carries a whole ring.
	big := newState()
	big.epoch, big.n, big.vnodes = 1, 3, 3
	for i := range 60 {
		big.members[fmt.Sprintf("a-long-server-id-%d", i)] = Active
	}
	if p := importCommand(big).encode(); len(p) <= MaxCommandSize {
		t.Fatalf("test state too small: %d bytes", len(p))
	} else if _, err := decodeCommand(p); err != nil {
		t.Fatalf("large import: %v", err)
	}
	unconfigured, zeroEpoch := newState(), seedState()
	zeroEpoch.epoch = 0
	for name, st := range map[string]*state{"unconfigured": unconfigured, "epoch 0": zeroEpoch} {
		if _, err := decodeCommand(importCommand(st).encode()); !errors.Is(err, ErrMalformed) {
			t.Errorf("import of an %s state: %v, want ErrMalformed", name, err)
		}
	}
	bad := append([]byte{0x93, 0x01, 0x05}, encodeState(seedState())...)
	bad[4] = SnapshotVersion + 1 // the nested snapshot version
	if _, err := decodeCommand(bad); !errors.Is(err, ErrUnknownVersion) {
		t.Errorf("import of a later snapshot version: %v, want ErrUnknownVersion", err)
	}
	if _, err := decodeCommand(append(p, 0x00)); !errors.Is(err, ErrMalformed) {
		t.Errorf("import with trailing bytes: %v, want ErrMalformed", err)
	}
}

func TestImportIsAcceptedOnlyWhileUnconfigured(t *testing.T) {
	f := newFSM(3)
	if err := applyRaw(f, 1, importCommand(seedState()).encode()); err != nil {
		t.Fatalf("import on a fresh state: %v", err)
	}
	<-f.changes
	select {
	case <-f.ready:
	default:
		t.Fatal("ready not closed after the import")
	}
	st := f.copyState()
	if !bytes.Equal(encodeState(st), encodeState(seedState())) {
		t.Fatalf("state after the import: %+v", st)
	}
	if v := f.current(); v.Epoch != 7 || !slices.Equal(v.Ring.Servers(), []string{"s1", "s3"}) {
		t.Fatalf("view after the import: epoch %d, %v", v.Epoch, v.Ring.Servers())
	}
	// The imported removal holds; later changes count on from the epoch.
	if err := applyRaw(f, 2, joinCommand("s2").encode()); !errors.Is(err, placement.ErrRemoved) {
		t.Fatalf("join of an imported removed server: %v", err)
	}
	if err := applyRaw(f, 3, joinCommand("s4").encode()); err != nil || f.current().Epoch != 8 {
		t.Fatalf("join after the import: %v, epoch %d", err, f.current().Epoch)
	}
	before := encodeState(f.copyState())
	other := seedState()
	other.epoch = 100
	if err := applyRaw(f, 4, importCommand(other).encode()); !errors.Is(err, ErrAlreadyConfigured) {
		t.Fatalf("second import: %v, want ErrAlreadyConfigured", err)
	}
	g := configured(t)
	if err := applyRaw(g, 2, importCommand(seedState()).encode()); !errors.Is(err, ErrAlreadyConfigured) {
		t.Fatalf("import after configure: %v, want ErrAlreadyConfigured", err)
	}
	if after := encodeState(f.copyState()); !bytes.Equal(before, after) {
		t.Fatal("a refused import changed the state")
	}
}

func TestNodeCommitsItsSeedOnceAndKeepsItAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	seed := &Seed{Epoch: 7, Members: []string{"s1", "s3"}, Removed: []string{"s2"}}
	cfg := testConfig("p1", "p1-addr")
	cfg.Dir, cfg.Seed, cfg.N, cfg.VNodes = dir, seed, 1, 5
	n, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	waitLeader(t, n)
	<-n.Configured()
	if b := n.EpochBody(); b.Epoch != 7 || b.N != 1 || b.VNodes != 5 || len(b.Members) != 2 {
		t.Fatalf("seeded state: %+v", b)
	}
	if err := n.Join(testContext(t), "s2"); !errors.Is(err, placement.ErrRemoved) {
		t.Fatalf("join of a seeded removal: %v", err)
	}
	if err := n.Join(testContext(t), "s4"); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	// Restarted with another seed and configuration: the committed state
	// stays, the seed is not applied again.
	cfg = testConfig("p1", "p1-addr")
	cfg.Dir, cfg.N, cfg.VNodes = dir, 3, 3
	cfg.Seed = &Seed{Epoch: 50, Members: []string{"x1"}}
	n = openNode(t, cfg)
	waitLeader(t, n)
	<-n.Configured()
	waitEpoch(t, 8, n)
	if v := n.View(); !slices.Equal(v.Ring.Servers(), []string{"s1", "s3", "s4"}) {
		t.Fatalf("after the restart: %v", v.Ring.Servers())
	}
	if b := n.EpochBody(); b.N != 1 || b.VNodes != 5 {
		t.Fatalf("committed N, vnodes after the restart: %+v", b)
	}
}

func TestSeedIsCheckedByOpen(t *testing.T) {
	for name, seed := range map[string]Seed{
		"epoch 0":            {Members: []string{"s1"}},
		"duplicate":          {Epoch: 1, Members: []string{"s1", "s1"}},
		"member and removed": {Epoch: 1, Members: []string{"s1"}, Removed: []string{"s1"}},
		"bad ID":             {Epoch: 1, Members: []string{"-x"}},
	} {
		cfg := testConfig("p1", "p1-addr")
		cfg.Seed = &seed
		if n, err := Open(cfg); !errors.Is(err, ErrConfig) {
			if n != nil {
				n.Close()
			}
			t.Errorf("%s: %v, want ErrConfig", name, err)
		}
	}
}
