package membership

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	"shoplist/cluster/placement"

	"github.com/hashicorp/raft"
)

// applyRaw feeds data to f as log entry index and returns Apply's result.
func applyRaw(f *fsm, index uint64, data []byte) error {
	res := f.Apply(&raft.Log{Index: index, Type: raft.LogCommand, Data: data})
	if res == nil {
		return nil
	}
	return res.(error)
}

// configured returns an fsm with N = 3, vnodes = 3 committed (epoch 1).
func configured(t *testing.T) *fsm {
	t.Helper()
	f := newFSM(3)
	if err := applyRaw(f, 1, configureCommand(3, 3).encode()); err != nil {
		t.Fatalf("configure: %v", err)
	}
	<-f.changes
	return f
}

func TestApplySequenceGivesEpochsAndMembers(t *testing.T) {
	f := newFSM(3)
	if err := applyRaw(f, 1, joinCommand("s1").encode()); !errors.Is(err, ErrNotConfigured) {
		t.Fatalf("join before configure: %v, want ErrNotConfigured", err)
	}
	steps := []struct {
		cmd     command
		err     error // nil: accepted
		epoch   uint64
		members []Member
		changed bool
	}{
		{configureCommand(3, 3), nil, 1, nil, true},
		{joinCommand("s1"), nil, 2, []Member{{"s1", Active}}, true},
		{joinCommand("s2"), nil, 3, []Member{{"s1", Active}, {"s2", Active}}, true},
		{joinCommand("s1"), nil, 3, []Member{{"s1", Active}, {"s2", Active}}, false},
		{leaveCommand("s1"), nil, 4, []Member{{"s1", Leaving}, {"s2", Active}}, true},
		{leaveCommand("s1"), nil, 4, []Member{{"s1", Leaving}, {"s2", Active}}, false},
		{joinCommand("s1"), nil, 4, []Member{{"s1", Leaving}, {"s2", Active}}, false},
		{leaveCommand("s9"), placement.ErrNotMember, 4, []Member{{"s1", Leaving}, {"s2", Active}}, false},
		{removeCommand("s1"), nil, 5, []Member{{"s2", Active}}, true},
		{joinCommand("s1"), placement.ErrRemoved, 5, []Member{{"s2", Active}}, false},
		{removeCommand("s1"), placement.ErrNotMember, 5, []Member{{"s2", Active}}, false},
		{removeCommand("s9"), placement.ErrNotMember, 5, []Member{{"s2", Active}}, false},
		{configureCommand(3, 3), nil, 5, []Member{{"s2", Active}}, false},
		{configureCommand(2, 3), ErrConfigMismatch, 5, []Member{{"s2", Active}}, false},
		{joinCommand("s3"), nil, 6, []Member{{"s2", Active}, {"s3", Active}}, true},
	}
	for i, s := range steps {
		err := applyRaw(f, uint64(i+2), s.cmd.encode())
		if s.err == nil && err != nil || s.err != nil && !errors.Is(err, s.err) {
			t.Fatalf("step %d %s %s: err %v, want %v", i, s.cmd.op, s.cmd.id, err, s.err)
		}
		st := f.copyState()
		if st.epoch != s.epoch || !slices.Equal(st.sortedMembers(), s.members) {
			t.Fatalf("step %d %s %s: epoch %d members %v, want %d %v", i, s.cmd.op, s.cmd.id, st.epoch, st.sortedMembers(), s.epoch, s.members)
		}
		var active, leaving []string
		for _, m := range s.members {
			if m.State == Leaving {
				leaving = append(leaving, m.ID)
			} else {
				active = append(active, m.ID)
			}
		}
		v := f.current()
		if v.Epoch != s.epoch || !slices.Equal(v.Ring.Servers(), active) || !slices.Equal(v.Leaving, leaving) {
			t.Fatalf("step %d: view epoch %d ring %v leaving %v, want %d %v %v", i, v.Epoch, v.Ring.Servers(), v.Leaving, s.epoch, active, leaving)
		}
		select {
		case <-f.changes:
			if !s.changed {
				t.Fatalf("step %d: Changes signalled for a command that changed nothing", i)
			}
		default:
			if s.changed {
				t.Fatalf("step %d: Changes not signalled after a change", i)
			}
		}
	}
	if got := f.current().Ring.Servers(); !slices.Equal(got, []string{"s2", "s3"}) {
		t.Fatalf("ring %v, want [s2 s3]", got)
	}
	if got := f.copyState().sortedRemoved(); !slices.Equal(got, []string{"s1"}) {
		t.Fatalf("removed %v, want [s1]", got)
	}
}

func TestApplyRejectsBadCommandsAndChangesNothing(t *testing.T) {
	f := configured(t)
	if err := applyRaw(f, 2, joinCommand("s1").encode()); err != nil {
		t.Fatal(err)
	}
	<-f.changes
	before := snapshotBytes(t, f)
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"unknown version", []byte{0x93, 0x02, 0x02, 0xa2, 's', '2'}, ErrUnknownVersion},
		{"unknown version, other arity", []byte{0x92, 0x07, 0x01}, ErrUnknownVersion},
		{"unknown op", []byte{0x93, 0x01, 0x09, 0xa2, 's', '2'}, ErrUnknownOp},
		{"large op", []byte{0x93, 0x01, 0xcd, 0x01, 0x00, 0xa2, 's', '2'}, ErrUnknownOp},
		{"empty", nil, ErrMalformed},
		{"not an array", []byte{0xa2, 's', '2'}, ErrMalformed},
		{"short array", []byte{0x91, 0x01}, ErrMalformed},
		{"join arity", []byte{0x94, 0x01, 0x02, 0xa2, 's', '2', 0x01}, ErrMalformed},
		{"trailing bytes", append(joinCommand("s2").encode(), 0x00), ErrMalformed},
		{"truncated", joinCommand("s2").encode()[:4], ErrMalformed},
		{"bin for str", []byte{0x93, 0x01, 0x02, 0xc4, 0x02, 's', '2'}, ErrMalformed},
		{"negative op", []byte{0x93, 0x01, 0xff, 0xa2, 's', '2'}, ErrMalformed},
		{"nil version", []byte{0x93, 0xc0, 0x02, 0xa2, 's', '2'}, ErrMalformed},
		{"bad ID", []byte{0x93, 0x01, 0x02, 0xa2, '-', 'x'}, ErrMalformed},
		{"huge string length", []byte{0x93, 0x01, 0x02, 0xdb, 0xff, 0xff, 0xff, 0xff}, ErrMalformed},
		{"huge array length", []byte{0xdd, 0xff, 0xff, 0xff, 0xff}, ErrMalformed},
		{"too large", bytes.Repeat([]byte{0x01}, MaxCommandSize+1), ErrMalformed},
		{"configure n 0", []byte{0x94, 0x01, 0x01, 0x00, 0x03}, ErrMalformed},
		{"configure vnodes over limit", []byte{0x94, 0x01, 0x01, 0x03, 0xcd, 0xff, 0xff}, ErrMalformed},
	}
	for i, c := range cases {
		err := applyRaw(f, uint64(3+i), c.data)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		select {
		case <-f.changes:
			t.Errorf("%s: Changes signalled", c.name)
		default:
		}
	}
	if after := snapshotBytes(t, f); !bytes.Equal(before, after) {
		t.Fatalf("rejected commands changed the state:\n%x\n%x", before, after)
	}
}

func TestSnapshotRestoreGivesIdenticalState(t *testing.T) {
	f := configured(t)
	for i, c := range []command{joinCommand("s1"), joinCommand("s2"), joinCommand("s3"), leaveCommand("s2"), removeCommand("s3")} {
		if err := applyRaw(f, uint64(2+i), c.encode()); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	// The snapshot is a copy: a change after Snapshot is not in it.
	if err := applyRaw(f, 10, joinCommand("s4").encode()); err != nil {
		t.Fatal(err)
	}
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	want := sink.Bytes()

	// A fresh fsm holding another state: Restore replaces it entirely.
	g := newFSM(3)
	if err := applyRaw(g, 1, configureCommand(3, 3).encode()); err != nil {
		t.Fatal(err)
	}
	for i, c := range []command{joinCommand("x1"), joinCommand("x2"), removeCommand("x2"), joinCommand("x3"), joinCommand("x4"), joinCommand("x5")} {
		if err := applyRaw(g, uint64(2+i), c.encode()); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Restore(io.NopCloser(bytes.NewReader(want))); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if got := snapshotBytes(t, g); !bytes.Equal(got, want) {
		t.Fatalf("restored state encodes differently:\n got %x\nwant %x", got, want)
	}
	st := g.copyState()
	if st.epoch != 6 || !slices.Equal(st.sortedMembers(), []Member{{"s1", Active}, {"s2", Leaving}}) ||
		!slices.Equal(st.sortedRemoved(), []string{"s3"}) || st.n != 3 || st.vnodes != 3 {
		t.Fatalf("restored epoch %d n %d vnodes %d members %v removed %v", st.epoch, st.n, st.vnodes, st.sortedMembers(), st.sortedRemoved())
	}
	if v := g.current(); v.Epoch != 6 || !slices.Equal(v.Ring.Servers(), []string{"s1"}) || !slices.Equal(v.Leaving, []string{"s2"}) {
		t.Fatalf("restored view epoch %d ring %v leaving %v", v.Epoch, v.Ring.Servers(), v.Leaving)
	}
	if err := applyRaw(g, 20, joinCommand("s3").encode()); !errors.Is(err, placement.ErrRemoved) {
		t.Fatalf("join of a server removed before the snapshot: %v, want placement.ErrRemoved", err)
	}
	if err := applyRaw(g, 21, joinCommand("x2").encode()); err != nil {
		t.Fatalf("x2 was removed only in the replaced state; join: %v", err)
	}
}

func TestRestoreRejectsBadSnapshots(t *testing.T) {
	w := func(build func(w *writer)) []byte { x := newWriter(); build(x); return x.bytes() }
	// Version 2 snapshots (no admitted servers): admitted_test.go has
	// version 3's own cases.
	head := func(x *writer, members int) {
		x.array(7)
		x.uint(2)
		x.uint(4)
		x.uint(3)
		x.uint(3)
		x.array(members)
	}
	proxy := func(x *writer, p ProxyInfo) {
		x.array(4)
		writeProxyInfo(x, p)
	}
	p1 := ProxyInfo{ID: "p1", Raft: "h:1", Admin: "h:2", Client: "tcp://h:3"}
	cases := map[string][]byte{
		"a later version": w(func(x *writer) {
			x.array(8)
			x.uint(SnapshotVersion + 1)
		}),
		"version 2 without proxies": w(func(x *writer) {
			head(x, 0)
			x.array(0)
		}),
		"version 1 with proxies": w(func(x *writer) {
			x.array(7)
			x.uint(1)
			x.uint(4)
			x.uint(3)
			x.uint(3)
			x.array(0)
			x.array(0)
			x.array(0)
		}),
		"duplicate member": w(func(x *writer) {
			head(x, 2)
			for range 2 {
				x.array(2)
				x.str("s1")
				x.uint(uint64(Active))
			}
			x.array(0)
			x.array(0)
		}),
		"unknown state": w(func(x *writer) {
			head(x, 1)
			x.array(2)
			x.str("s1")
			x.uint(9)
			x.array(0)
			x.array(0)
		}),
		"member and removed": w(func(x *writer) {
			head(x, 1)
			x.array(2)
			x.str("s1")
			x.uint(uint64(Active))
			x.array(1)
			x.str("s1")
			x.array(0)
		}),
		"duplicate proxy": w(func(x *writer) {
			head(x, 0)
			x.array(0)
			x.array(2)
			proxy(x, p1)
			proxy(x, p1)
		}),
		"proxy without raft address": w(func(x *writer) {
			head(x, 0)
			x.array(0)
			x.array(1)
			proxy(x, ProxyInfo{ID: "p1"})
		}),
		"proxy with a bad client endpoint": w(func(x *writer) {
			head(x, 0)
			x.array(0)
			x.array(1)
			proxy(x, ProxyInfo{ID: "p1", Raft: "h:1", Client: "h:3"})
		}),
		"proxy with 3 fields": w(func(x *writer) {
			head(x, 0)
			x.array(0)
			x.array(1)
			x.array(3)
			x.str("p1")
			x.str("h:1")
			x.str("h:2")
		}),
		"too many proxies": w(func(x *writer) {
			head(x, 0)
			x.array(0)
			x.array(MaxProxies + 1)
			for i := range MaxProxies + 1 {
				proxy(x, ProxyInfo{ID: fmt.Sprintf("p%d", i), Raft: "h:1"})
			}
		}),
		"trailing": append(encodeState(newState()), 0x00),
		"garbage":  []byte("not a snapshot"),
	}
	// The same bodies, well formed, are accepted: each case fails for the
	// reason it names.
	ok := w(func(x *writer) {
		head(x, 1)
		x.array(2)
		x.str("s1")
		x.uint(uint64(Active))
		x.array(1)
		x.str("s2")
		x.array(2)
		proxy(x, p1)
		proxy(x, ProxyInfo{ID: "p2", Raft: "h:4"})
	})
	if _, err := decodeState(ok); err != nil {
		t.Fatalf("a well-formed snapshot: %v", err)
	}
	for name, data := range cases {
		f := configured(t)
		before := snapshotBytes(t, f)
		if err := f.Restore(io.NopCloser(bytes.NewReader(data))); err == nil {
			t.Errorf("%s: Restore accepted it", name)
		}
		if after := snapshotBytes(t, f); !bytes.Equal(before, after) {
			t.Errorf("%s: a refused snapshot changed the state", name)
		}
	}
}

func TestApplyIsDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ids := []string{"s1", "s2", "s3", "s4", "s5", "s6"}
	var log [][]byte
	log = append(log, configureCommand(3, 5).encode())
	for range 2000 {
		id := ids[rng.IntN(len(ids))]
		switch rng.IntN(7) {
		case 6: // a proxy moving to another port
			k := rng.IntN(3)
			log = append(log, proxyCommand(ProxyInfo{ID: fmt.Sprintf("p%d", k), Raft: fmt.Sprintf("h:%d", rng.IntN(4)), Client: "tcp://h:1"}).encode())
		case 0, 1, 2:
			log = append(log, joinCommand(id).encode())
		case 3:
			log = append(log, leaveCommand(id).encode())
		case 4:
			log = append(log, removeCommand(id).encode())
		case 5: // junk: a random byte flipped in a valid command
			c := joinCommand(id).encode()
			c[rng.IntN(len(c))] ^= byte(1 + rng.IntN(255))
			log = append(log, c)
		}
	}
	a, b := newFSM(3), newFSM(3)
	for i, e := range log {
		ea, eb := applyRaw(a, uint64(i+1), e), applyRaw(b, uint64(i+1), e)
		if (ea == nil) != (eb == nil) || ea != nil && ea.Error() != eb.Error() {
			t.Fatalf("entry %d: results differ: %v / %v", i, ea, eb)
		}
	}
	sa, sb := snapshotBytes(t, a), snapshotBytes(t, b)
	if !bytes.Equal(sa, sb) {
		t.Fatalf("snapshots differ:\n%x\n%x", sa, sb)
	}
	if a.current().Epoch < 10 || len(a.proxies()) != 3 {
		t.Fatalf("epoch %d, %d proxies: the log should have changed the state many times", a.current().Epoch, len(a.proxies()))
	}
}
