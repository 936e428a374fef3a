package syncer_test

import (
	"bytes"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/chacha20poly1305"

	"shoplist/client/syncer"
	"shoplist/crdt"
	"shoplist/protocol"
)

// A pull never loses a local unpushed edit: the fake proxy answers pulls
// with a state holding concurrent edits by another replica (a rename, a new
// item, more of an item edited here) and refuses every push, so the local
// edits stay unpushed while the pull is merged. Once pushes are accepted,
// the local edits are what gets pushed.
func TestPullNeverLosesALocalUnpushedEdit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	store, err := replicaOpen(t, dir)
	must(t, err)
	e, err := store.Create("groceries")
	must(t, err)
	id := e.List.ID()

	// The remote state: the list as created, edited elsewhere.
	remote := e.List.Clone()
	other := crdt.NewClock(uuid.New())
	must(t, remote.Rename(other, "shared groceries"))
	must(t, remote.Add(other, "milk", 3))
	must(t, remote.Add(other, "bread", 1))
	// The local edits, made after the remote ones were stamped.
	_, _, err = store.Edit(id, add("milk", 2))
	must(t, err)
	_, _, err = store.Edit(id, add("eggs", 12))
	must(t, err)

	accept := make(chan struct{})
	var pushed [][]byte // bodies of accepted pushes; read after the engine closes
	f := startFake(t, func(f *fakeProxy, m protocol.Message) [][][]byte {
		switch m.Type {
		case protocol.TypeHello:
			return [][][]byte{f.welcome(m)}
		case protocol.TypePull:
			return [][][]byte{protocol.NewPullReply(m.RequestID, m.ListID, remote.Encode()).Frames()}
		case protocol.TypePush:
			select {
			case <-accept:
				pushed = append(pushed, bytes.Clone(m.Body))
				return [][][]byte{protocol.NewOK(m.RequestID, m.ListID).Frames()}
			default:
				return [][][]byte{protocol.NewError(m.RequestID, protocol.CodeUnavailable, "not today").Frames()}
			}
		}
		return [][][]byte{protocol.NewOK(m.RequestID, uuid.Nil).Frames()}
	})
	a := newClientIn(t, "a", dir, func(*syncer.Config) {}, f.endpoint)

	ev := a.waitEvent("the pull merged", func(ev syncer.Event) bool { return ev.Kind == syncer.ListChanged && ev.Remote })
	if !slices.Contains(ev.Keys, "bread") || !slices.Contains(ev.Keys, "milk") || !slices.Contains(ev.Keys, "") {
		t.Errorf("merge event keys %q, want the name, bread and milk", ev.Keys)
	}
	eventually(t, "a push refused", func() bool { return f.count(protocol.TypePush) > 0 && a.eng.Status().LastErr != "" })
	got := a.get(id)
	if !got.Pending {
		t.Fatal("after the pull the list is no longer pending: the local edits would never be pushed")
	}
	checkItems(t, got.List, map[string]int64{"milk": 5, "eggs": 12, "bread": 1})
	if got.List.Name() != "shared groceries" {
		t.Errorf("name %q, want the remote rename", got.List.Name())
	}
	if st := a.eng.Status(); st.Pending != 1 || !bytes.Contains([]byte(st.LastErr), []byte("not today")) {
		t.Errorf("status %+v, want 1 pending and the refusal in LastErr", st)
	}

	// Pushes are accepted from now on: the local edits are pushed, and
	// nothing remains pending.
	close(accept)
	a.eng.Kick(id)
	eventually(t, "the local edits pushed", func() bool { return !a.get(id).Pending })
	must(t, a.eng.Close())
	merged := crdt.Empty(id)
	for _, body := range pushed {
		d, err := crdt.Decode(body)
		must(t, err)
		must(t, merged.Merge(d))
	}
	if v, ok := merged.Lookup("eggs"); !ok || v.Wanted != 12 {
		t.Errorf("the pushes carry eggs %+v, %v; want 12", v, ok)
	}
	if v, ok := merged.Lookup("milk"); !ok || v.Wanted < 2 {
		t.Errorf("the pushes carry milk %+v, %v; want the local 2 at least", v, ok)
	}
}

// A hostile proxy, in each of several ways, leaves the engine running (it
// logs and reconnects) and the local data untouched.
func TestHostileProxy(t *testing.T) {
	t.Parallel()
	const oversize = protocol.MaxListSize + protocol.MaxHeaderSize + 4<<10
	for _, tc := range []struct {
		name   string
		handle func(f *fakeProxy, m protocol.Message) [][][]byte
		logged []string // a log line holds all of these
		never  string   // and no log line holds this
	}{
		{
			name: "garbage",
			handle: func(f *fakeProxy, m protocol.Message) [][][]byte {
				return [][][]byte{
					{[]byte("\xff\x00garbage"), []byte("more")},
					{[]byte("one frame")},
					{{0x95, 0x01, 0x02}, nil, nil}, // three frames, a truncated header
				}
			},
			logged: []string{"bad message from proxy dropped", "what=reply"},
		},
		{
			name: "wrong request IDs",
			handle: func(f *fakeProxy, m protocol.Message) [][][]byte {
				w := f.welcome(m)
				m.RequestID += 1000
				return [][][]byte{f.welcome(m), w[:1], protocol.NewError(0, protocol.CodeInternal, "for nobody").Frames()}
			},
			logged: []string{"reply to no request dropped"},
		},
		{
			name: "oversize",
			handle: func(f *fakeProxy, m protocol.Message) [][][]byte {
				return [][][]byte{{protocol.NewOK(m.RequestID, uuid.Nil).Header.Encode(), make([]byte, oversize)}}
			},
			logged: []string{"proxy connection lost"},
			never:  "bad message", // ZeroMQ drops it unread
		},
		{
			name: "Welcome of another type",
			handle: func(f *fakeProxy, m protocol.Message) [][][]byte {
				return [][][]byte{protocol.NewPullReply(m.RequestID, uuid.New(), nil).Frames()}
			},
			logged: []string{"bad message from proxy dropped", "Hello answered by PullReply"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			store, err := replicaOpen(t, dir)
			must(t, err)
			e, err := store.Create("precious")
			must(t, err)
			_, _, err = store.Edit(e.List.ID(), add("gold", 7))
			must(t, err)
			before, err := store.Get(e.List.ID())
			must(t, err)

			f := startFake(t, tc.handle)
			a := newClientIn(t, "a", dir, func(*syncer.Config) {}, f.endpoint)
			eventually(t, "the engine reconnected and logged the abuse", func() bool {
				return f.connections() >= 2 && a.log.contains(tc.logged...)
			}, func() string { return fmt.Sprintf("%d connections", f.connections()) })
			if tc.never != "" && a.log.contains(tc.never) {
				t.Errorf("the log has %q", tc.never)
			}
			if st := a.eng.Status(); st.Conn == syncer.Online {
				t.Errorf("online through a hostile proxy: %+v", st)
			}
			after := a.get(e.List.ID())
			if !bytes.Equal(after.List.Encode(), before.List.Encode()) || !after.Pending {
				t.Errorf("the local list changed: %+v pending %v, was %+v", after.List.Items(), after.Pending, before.List.Items())
			}
			must(t, a.eng.Close())
		})
	}
}

// Bad live updates are dropped: a header naming another list, a topic
// frame longer than a topic, a body of another list, a body that does not
// decode, a frame sealed with another list's key, a frame altered on the
// way, and an update of a list that is not local. The good updates sent
// after them arrive, so the bad ones were read first.
func TestHostileLiveUpdatesAreDropped(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	store, err := replicaOpen(t, dir)
	must(t, err)
	e, err := store.Create("watched")
	must(t, err)
	id := e.List.ID()
	_, _, err = store.Edit(id, add("gold", 7))
	must(t, err)

	f := startFake(t, func(f *fakeProxy, m protocol.Message) [][][]byte {
		switch m.Type {
		case protocol.TypeHello:
			return [][][]byte{f.welcome(m)}
		case protocol.TypePull:
			return [][][]byte{protocol.NewPullReply(m.RequestID, m.ListID, nil).Frames()}
		}
		return [][][]byte{protocol.NewOK(m.RequestID, m.ListID).Frames()}
	})
	a := newClientIn(t, "a", dir, func(*syncer.Config) {}, f.endpoint)
	eventually(t, "synced with the fake", func() bool { return !a.get(id).Pending })

	other := crdt.NewClock(uuid.New())
	evil := func(name string) []byte { // the list, with an item that must not arrive
		l := a.get(id).List
		must(t, l.Add(other, name, 666))
		return l.Encode()
	}
	stranger, err := crdt.New(other, "stranger")
	must(t, err)
	must(t, stranger.Add(other, "evil stranger", 1))
	key, strangerKey := protocol.NewLiveKey(id), protocol.NewLiveKey(stranger.ID())
	topic := key.Topic()
	header := func(list uuid.UUID) []byte { return protocol.NewLiveUpdate(list, nil).Header.Encode() }
	// seal seals any header and body as a holder of the list ID can.
	seal := func(k *protocol.LiveKey, header, body []byte) []byte { return sealRaw(t, k.List(), header, body) }
	for round := 0; ; round++ {
		// Every bad update is subscribed to by the SUB's prefix filter.
		f.publish(topic, seal(key, header(stranger.ID()), evil("evil header")))
		f.publish(append(bytes.Clone(topic), 0), seal(key, header(id), evil("evil long topic")))
		f.publish(topic, seal(key, header(id), stranger.Encode()))
		f.publish(topic, seal(key, header(id), []byte("\x93not a list")))
		f.publish(topic, seal(key, header(id), evil("evil")[:20]))
		f.publish(topic, seal(strangerKey, header(id), evil("evil key")))
		altered := seal(key, header(id), evil("evil altered"))
		altered[len(altered)/2] ^= 1
		f.publish(topic, altered)
		f.publish(strangerKey.Topic(), seal(strangerKey, header(stranger.ID()), stranger.Encode()))
		marker := fmt.Sprintf("marker %d", round)
		l := a.get(id).List
		must(t, l.Add(other, marker, 1))
		good, err := key.Seal(protocol.NewLiveUpdate(id, l.Encode()))
		must(t, err)
		f.publish(good...)
		if _, ok := a.nextEvent(time.Second, func(ev syncer.Event) bool {
			return ev.Kind == syncer.ListChanged && ev.Remote && slices.Contains(ev.Keys, crdt.Normalize(marker))
		}); ok {
			break
		}
		if round > 20 {
			t.Fatal("no live update arrived")
		}
	}
	got := a.get(id).List
	for _, v := range got.Items() {
		if bytes.Contains([]byte(v.Key), []byte("evil")) {
			t.Errorf("a bad live update was merged: %+v", v)
		}
	}
	if v, ok := got.Lookup("gold"); !ok || v.Wanted != 7 {
		t.Errorf("gold %+v, %v: the local data changed", v, ok)
	}
	if all, err := a.store.All(); err != nil || len(all) != 1 {
		t.Errorf("%d local lists (%v), want 1: an update of a list not local was stored", len(all), err)
	}
	if !a.log.contains("bad message from proxy dropped", "what=\"live update\"") {
		t.Error("the bad live updates were not logged")
	}
}

// checkItems checks the wanted count of items in l.
func checkItems(t *testing.T, l *crdt.List, want map[string]int64) {
	t.Helper()
	for item, n := range want {
		if v, ok := l.Lookup(item); !ok || v.Wanted != n {
			t.Errorf("%s: %+v (present %v), want %d wanted", item, v, ok, n)
		}
	}
}

// A proxy whose clock is far from ours is reported in Status.LastErr, and
// a push refused for clock skew says clearly what to do; the edits stay.
func TestClockSkewIsReported(t *testing.T) {
	t.Parallel()
	skewed := func(refuse bool) func(f *fakeProxy, m protocol.Message) [][][]byte {
		return func(f *fakeProxy, m protocol.Message) [][][]byte {
			switch m.Type {
			case protocol.TypeHello:
				w, err := protocol.NewWelcome(m.RequestID, 1, protocol.WelcomeBody{
					PubEndpoint: f.pubEndpoint,
					Now:         uint64(time.Now().Add(-time.Hour).UnixMilli()),
				})
				must(t, err)
				return [][][]byte{w.Frames()}
			case protocol.TypePush:
				if refuse {
					return [][][]byte{protocol.NewError(m.RequestID, protocol.CodeClockSkew, "list stamped 1h ahead of the server's clock").Frames()}
				}
			case protocol.TypePull:
				return [][][]byte{protocol.NewPullReply(m.RequestID, m.ListID, nil).Frames()}
			}
			return [][][]byte{protocol.NewOK(m.RequestID, m.ListID).Frames()}
		}
	}

	warned := startFake(t, skewed(false))
	a := newClient(t, "a", warned.endpoint)
	id := a.create("timely")
	eventually(t, "a skew warning while online", func() bool {
		st := a.eng.Status()
		return st.Conn == syncer.Online && strings.Contains(st.LastErr, "clock is 1h0m0s ahead of the proxy's")
	}, func() string { return fmt.Sprintf("status %+v", a.eng.Status()) })
	eventually(t, "the list pushed despite the warning", func() bool { return !a.get(id).Pending })

	refused := startFake(t, skewed(true))
	b := newClient(t, "b", refused.endpoint)
	id = b.create("late")
	eventually(t, "the refusal shown", func() bool {
		st := b.eng.Status()
		return strings.Contains(st.LastErr, "fix the clock") && strings.Contains(st.LastErr, "ClockSkew")
	}, func() string { return fmt.Sprintf("status %+v", b.eng.Status()) })
	if !b.get(id).Pending {
		t.Error("a refused push cleared the pending edits")
	}
}

// sealRaw seals any header and body for list as docs/PROTOCOL.md describes
// the sealed form, built here from the primitives: HKDF-SHA256 of the ID,
// then XChaCha20-Poly1305 of len(header) ‖ header ‖ body with the topic as
// additional data. It returns the sealed frame.
func sealRaw(t *testing.T, list uuid.UUID, header, body []byte) []byte {
	t.Helper()
	salt := []byte("shoplist live updates")
	topic, err := hkdf.Key(sha256.New, list[:], salt, "shoplist pub v1 topic", 16)
	must(t, err)
	key, err := hkdf.Key(sha256.New, list[:], salt, "shoplist pub v1 key", 32)
	must(t, err)
	aead, err := chacha20poly1305.NewX(key)
	must(t, err)
	nonce := make([]byte, chacha20poly1305.NonceSizeX)
	rand.Read(nonce)
	pt := append(append([]byte{byte(len(header))}, header...), body...)
	return aead.Seal(nonce, nonce, pt, topic)
}
