package membership

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"shoplist/cluster/placement"
	"shoplist/internal/curvekey"
)

// newKey returns a fresh public key.
func newKey(t testing.TB) string {
	t.Helper()
	p, err := curvekey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return p.Public
}

// admittedOf returns the fsm's committed admissions, by ID.
func admittedOf(f *fsm) map[string]string {
	out := map[string]string{}
	v := f.current()
	for _, id := range v.Admitted.IDs() {
		out[id], _ = v.Admitted.Key(id)
	}
	return out
}

func TestAdmissionsBindOneKeyToOneServerWithoutChangingTheEpoch(t *testing.T) {
	f := configured(t)
	k1, k2, k3 := newKey(t), newKey(t), newKey(t)
	must(t, applyRaw(f, 2, joinCommand("s1").encode()))
	<-f.changes
	epoch := f.current().Epoch
	steps := []struct {
		cmd     command
		err     error // nil: accepted
		want    map[string]string
		changed bool
	}{
		{admitCommand(Admitted{"s1", k1}), nil, map[string]string{"s1": k1}, true},
		{admitCommand(Admitted{"s1", k1}), nil, map[string]string{"s1": k1}, false},
		{admitCommand(Admitted{"s2", k1}), ErrKeyInUse, map[string]string{"s1": k1}, false},
		{admitCommand(Admitted{"s2", k2}), nil, map[string]string{"s1": k1, "s2": k2}, true},
		{admitCommand(Admitted{"s1", k3}), nil, map[string]string{"s1": k3, "s2": k2}, true}, // a new key for s1
		{admitCommand(Admitted{"s4", k1}), nil, map[string]string{"s1": k3, "s2": k2, "s4": k1}, true},
		{revokeCommand("s4"), nil, map[string]string{"s1": k3, "s2": k2}, true},
		{revokeCommand("s4"), ErrNotAdmitted, map[string]string{"s1": k3, "s2": k2}, false},
		{removeCommand("s1"), nil, map[string]string{"s2": k2}, true}, // removal revokes
		{admitCommand(Admitted{"s1", k3}), placement.ErrRemoved, map[string]string{"s2": k2}, false},
	}
	for i, s := range steps {
		err := applyRaw(f, uint64(10+i), s.cmd.encode())
		if s.err == nil && err != nil || s.err != nil && !errors.Is(err, s.err) {
			t.Fatalf("step %d (%s %s): %v, want %v", i, s.cmd.op, s.cmd.id, err, s.err)
		}
		if got := admittedOf(f); !equalMaps(got, s.want) {
			t.Fatalf("step %d: admitted %v, want %v", i, got, s.want)
		}
		if signalled(f) != s.changed {
			t.Fatalf("step %d: change signalled %v, want %v", i, !s.changed, s.changed)
		}
	}
	// Only the removal moved the epoch.
	if got := f.current().Epoch; got != epoch+1 {
		t.Fatalf("epoch %d, want %d", got, epoch+1)
	}
	v := f.current()
	if id, ok := v.Admitted.ID(k2); !ok || id != "s2" || !v.Admitted.Admits("s2", k2) || v.Admitted.Admits("s2", k1) {
		t.Fatalf("view's admission: ID(k2) = %q %v", id, ok)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestAdmitCommandsRoundTripAndRefuseBadKeys(t *testing.T) {
	key := newKey(t)
	for _, c := range []command{admitCommand(Admitted{"s1", key}), revokeCommand("s1")} {
		back, err := decodeCommand(c.encode())
		if err != nil || back != c {
			t.Fatalf("%s: decoded %+v, %v; want %+v", c.op, back, err, c)
		}
	}
	w := func(build func(w *writer)) []byte { x := newWriter(); build(x); return x.bytes() }
	for name, data := range map[string][]byte{
		"short key":           admitCommand(Admitted{"s1", key[:35]}).encode(),
		"long key":            w(func(x *writer) { x.array(4); x.uint(1); x.uint(uint64(opAdmit)); x.str("s1"); x.str(key + key) }),
		"key not in Z85":      admitCommand(Admitted{"s1", "~" + key[1:]}).encode(),
		"bad server ID":       admitCommand(Admitted{"-s1", key}).encode(),
		"admit without a key": w(func(x *writer) { x.array(3); x.uint(1); x.uint(uint64(opAdmit)); x.str("s1") }),
		"revoke with a key":   w(func(x *writer) { x.array(4); x.uint(1); x.uint(uint64(opRevoke)); x.str("s1"); x.str(key) }),
	} {
		if _, err := decodeCommand(data); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

func TestSnapshotsKeepTheAdmissions(t *testing.T) {
	f := configured(t)
	k1, k2 := newKey(t), newKey(t)
	must(t, applyRaw(f, 2, admitCommand(Admitted{"s1", k1}).encode()))
	must(t, applyRaw(f, 3, admitCommand(Admitted{"s2", k2}).encode()))
	want := snapshotBytes(t, f)
	g := newFSM(3)
	if err := g.Restore(io.NopCloser(bytes.NewReader(want))); err != nil {
		t.Fatal(err)
	}
	if got := snapshotBytes(t, g); !bytes.Equal(got, want) {
		t.Fatalf("restored state encodes differently:\n got %x\nwant %x", got, want)
	}
	if got := admittedOf(g); !equalMaps(got, map[string]string{"s1": k1, "s2": k2}) {
		t.Fatalf("restored admissions %v", got)
	}

	// A version 2 snapshot (before admissions) restores with nobody
	// admitted, and is written back as the current version.
	v2 := []byte{0x97, 0x02, 0x04, 0x03, 0x03, 0x91, 0x92, 0xa2, 's', '1', 0x01, 0x90, 0x90}
	h := newFSM(3)
	if err := h.Restore(io.NopCloser(bytes.NewReader(v2))); err != nil {
		t.Fatalf("Restore of a version 2 snapshot: %v", err)
	}
	if h.current().Admitted.Len() != 0 || !h.current().Has("s1") {
		t.Fatalf("restored version 2: admitted %v, ring %v", h.current().Admitted.IDs(), h.current().Ring.Servers())
	}
	if got, want := snapshotBytes(t, h), append(append([]byte{0x98, SnapshotVersion}, v2[2:]...), 0x90); !bytes.Equal(got, want) {
		t.Fatalf("re-encoded as %x, want %x", got, want)
	}
}

func TestRestoreRejectsBadAdmissions(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	w := func(build func(w *writer)) []byte { x := newWriter(); build(x); return x.bytes() }
	// snap writes a version 3 snapshot with s1 a member, s3 removed, and
	// the admissions entries writes.
	snap := func(entries func(x *writer)) []byte {
		return w(func(x *writer) {
			x.array(8)
			x.uint(3)
			x.uint(4)
			x.uint(3)
			x.uint(3)
			x.array(1)
			x.array(2)
			x.str("s1")
			x.uint(uint64(Active))
			x.array(1)
			x.str("s3")
			x.array(0)
			entries(x)
		})
	}
	pair := func(x *writer, id, key string) { x.array(2); x.str(id); x.str(key) }
	cases := map[string][]byte{
		"version 3 without admissions": w(func(x *writer) {
			x.array(7)
			x.uint(3)
			x.uint(0)
			x.uint(0)
			x.uint(0)
			x.array(0)
			x.array(0)
			x.array(0)
		}),
		"a server admitted twice":  snap(func(x *writer) { x.array(2); pair(x, "s1", k1); pair(x, "s1", k2) }),
		"one key for two servers":  snap(func(x *writer) { x.array(2); pair(x, "s1", k1); pair(x, "s2", k1) }),
		"a removed server":         snap(func(x *writer) { x.array(1); pair(x, "s3", k1) }),
		"a bad key":                snap(func(x *writer) { x.array(1); pair(x, "s1", k1[:39]+"~") }),
		"a key of the wrong size":  snap(func(x *writer) { x.array(1); pair(x, "s1", k1+"00000") }),
		"an entry of three fields": snap(func(x *writer) { x.array(1); x.array(3); x.str("s1"); x.str(k1); x.str("x") }),
		"more than allowed": snap(func(x *writer) {
			x.array(MaxAdmitted + 1)
			for i := range MaxAdmitted + 1 {
				pair(x, fmt.Sprintf("s%d", i), k1)
			}
		}),
	}
	if _, err := decodeState(snap(func(x *writer) { x.array(2); pair(x, "s1", k1); pair(x, "s2", k2) })); err != nil {
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

func TestTheLeaderCommitsAndLogsAdmissions(t *testing.T) {
	ctx := testContext(t)
	var logs syncLog
	cfg := testConfig("p1", "p1-addr")
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	n := openNode(t, cfg)
	waitLeader(t, n)
	waitEpoch(t, 1, n)
	key := newKey(t)
	must(t, n.Admit(ctx, "s6", key))
	if !n.View().Admitted.Admits("s6", key) {
		t.Fatal("s6 is not admitted once Admit returned")
	}
	st, err := n.Status(ctx)
	must(t, err)
	if !slices.Equal(st.Admitted, []Admitted{{"s6", key}}) {
		t.Fatalf("status admitted %+v", st.Admitted)
	}
	must(t, n.Revoke(ctx, "s6"))
	if n.View().Admitted.Len() != 0 {
		t.Fatal("s6 is still admitted once Revoke returned")
	}
	if err := n.Revoke(ctx, "s6"); !errors.Is(err, ErrNotAdmitted) {
		t.Fatalf("second Revoke: %v, want ErrNotAdmitted", err)
	}
	if err := n.Admit(ctx, "s6", "nonsense"); !errors.Is(err, ErrMalformed) {
		t.Fatalf("Admit of a bad key: %v", err)
	}
	// slog quotes a value that holds a character such as '=' or '"',
	// which a Z85 key may.
	keyAttr := "key=" + key
	if strings.ContainsAny(key, ` ="\`) {
		keyAttr = "key=" + strconv.Quote(key)
	}
	for _, want := range []string{`msg="server admitted to the backend" server=s6 ` + keyAttr, `server's admission revoked`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the leader's log lacks %q:\n%s", want, logs.String())
		}
	}
}

func TestAdmissionsTravelThroughTheForwarder(t *testing.T) {
	ctx := testContext(t)
	nodes := startGroup(t, NewInmemForwarder())
	leader := waitLeader(t, nodes...)
	follower := followerOf(nodes, leader)
	k1 := newKey(t)
	must(t, follower.Admit(ctx, "s1", k1))
	for _, n := range nodes {
		waitFor(t, n.cfg.ID+" to admit s1", func() bool { return n.View().Admitted.Admits("s1", k1) })
	}
	if err := follower.Admit(ctx, "s2", k1); !errors.Is(err, ErrKeyInUse) {
		t.Fatalf("a key in use, through a follower: %v, want ErrKeyInUse", err)
	}
	if err := follower.Revoke(ctx, "s9"); !errors.Is(err, ErrNotAdmitted) {
		t.Fatalf("revoking a stranger through a follower: %v, want ErrNotAdmitted", err)
	}
}

func TestRegistryAdmitsLikeTheGroup(t *testing.T) {
	ctx := context.Background()
	r, err := NewRegistry("", 3)
	must(t, err)
	k1, k2 := newKey(t), newKey(t)
	must(t, r.Admit(ctx, "s1", k1))
	<-r.Changes()
	if err := r.Admit(ctx, "s2", k1); !errors.Is(err, ErrKeyInUse) {
		t.Fatalf("a key in use: %v", err)
	}
	must(t, r.Join(ctx, "s1"))
	if v := r.View(); !v.Admitted.Admits("s1", k1) || v.Epoch != 1 {
		t.Fatalf("after a join: admitted %v, epoch %d", v.Admitted.IDs(), v.Epoch)
	}
	must(t, r.Admit(ctx, "s2", k2))
	must(t, r.Revoke(ctx, "s2"))
	if err := r.Revoke(ctx, "s2"); !errors.Is(err, ErrNotAdmitted) {
		t.Fatalf("revoking twice: %v", err)
	}
	must(t, r.Remove(ctx, "s1"))
	if v := r.View(); v.Admitted.Len() != 0 {
		t.Fatalf("a removed server stays admitted: %v", v.Admitted.IDs())
	}
	if err := r.Admit(ctx, "s1", k1); !errors.Is(err, placement.ErrRemoved) {
		t.Fatalf("admitting a removed server: %v", err)
	}
}

// syncLog is a log sink safe for the node's goroutines and the test.
type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncLog) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
