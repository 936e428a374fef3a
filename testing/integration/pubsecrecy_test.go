package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	zmq "github.com/pebbe/zmq4"

	replicastore "shoplist/client/replica"
	"shoplist/client/syncer"
	"shoplist/crdt"
	"shoplist/protocol"
)

// A list ID is the permission to read and write the list, so nothing on
// PUB may show one. An eavesdropper subscribed to the empty prefix (every
// topic) watches while a client pushes edits to several lists: no frame it
// receives holds a list ID, in its 16 bytes or as text, nor a list or item
// name, and no frame opens with a key other than its list's. Meanwhile a
// real client, syncing one of the lists, still gets that list's live
// updates.
func TestPubRevealsNoListIDAndNoItemToAnEavesdropper(t *testing.T) {
	t.Parallel()
	h := startInproc(t, 3)
	writer := h.client()
	welcome, err := writer.hello()
	must(t, err)

	const nLists, nEdits = 4, 3
	var lists []*replica
	for i := range nLists {
		lists = append(lists, pushNew(t, writer, fmt.Sprintf("secret list %d", i)))
	}
	watched := lists[0]

	// The eavesdropper: every topic, from before anything below is pushed.
	eve := newSocket(t, zmq.SUB)
	must(t, eve.SetSubscribe(""))
	connect(t, eve, welcome.PubEndpoint) // the proxy's key is public: anyone may pin it
	evePoll := zmq.NewPoller()
	evePoll.Add(eve, zmq.POLLIN)
	var heard [][][]byte // every message the eavesdropper received
	listen := func(d time.Duration) bool {
		frames, err := recvUntil(eve, evePoll, time.Now().Add(d))
		if errors.Is(err, errNoReply) {
			return false
		}
		must(t, err)
		heard = append(heard, frames)
		return true
	}
	// Its subscription reaches the PUB on its own: push until it hears.
	deadline := time.Now().Add(testTimeout)
	for i := 0; !listen(50 * time.Millisecond); i++ {
		delta, err := lists[1].add(fmt.Sprintf("eavesdropper warm-up %d", i), 1)
		must(t, err)
		must(t, writer.push(lists[1].id(), delta))
		if time.Now().After(deadline) {
			t.Fatalf("the eavesdropper heard nothing within %v", testTimeout)
		}
	}

	// The real client joins the watched list; its periodic re-pull is off,
	// so only live updates bring it the writer's edits.
	store, err := replicastore.Open(t.TempDir())
	must(t, err)
	t.Cleanup(func() { store.Close() })
	eng, err := syncer.Start(context.Background(), syncer.Config{
		Store:     store,
		Endpoints: []string{h.proxy.Endpoints().ClientEndpoint()},
		Logger:    h.log.With("role", "client"),
		Heartbeat: testHeartbeat,
		Repull:    time.Hour,
	})
	must(t, err)
	t.Cleanup(func() { eng.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	must(t, eng.Join(ctx, watched.id()))
	liveEdit := func(item string) bool { // the engine merged a live update with item
		return waitEngineEvent(eng, time.Second, func(ev syncer.Event) bool {
			return ev.Kind == syncer.ListChanged && ev.List == watched.id() && ev.Remote && slices.Contains(ev.Keys, crdt.Normalize(item))
		})
	}
	// Its SUB may still be connecting: warm up until one update arrives;
	// updates of one publisher arrive in order, so after that none is lost.
	for i := 0; ; i++ {
		item := fmt.Sprintf("client warm-up %d", i)
		delta, err := watched.add(item, 1)
		must(t, err)
		must(t, writer.push(watched.id(), delta))
		if liveEdit(item) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no live update reached the client within %v", testTimeout)
		}
	}

	// The edits the eavesdropper must learn nothing of.
	var items, watchedItems []string
	last := map[uuid.UUID][]byte{} // the last delta pushed to each list
	for e := range nEdits {
		for i, l := range lists {
			item := fmt.Sprintf("Saffron Threads %d-%d", i, e)
			items = append(items, item)
			delta, err := l.add(item, 1)
			must(t, err)
			must(t, writer.push(l.id(), delta))
			last[l.id()] = delta
			if l == watched {
				watchedItems = append(watchedItems, item)
				if !liveEdit(item) {
					t.Fatalf("the client subscribed to its list got no live update of %q", item)
				}
			}
		}
	}
	got, err := store.Get(watched.id())
	must(t, err)
	if missing := missingItems(got.List, watchedItems); len(missing) > 0 {
		t.Errorf("the client's replica lacks %q", missing)
	}

	// The eavesdropper hears every list's last update (the test, which
	// knows the IDs, tells them apart by opening them).
	keys := map[[protocol.TopicSize]byte]*protocol.LiveKey{}
	for _, l := range lists {
		k := protocol.NewLiveKey(l.id())
		keys[k.TopicKey()] = k
	}
	heardLast := func() int {
		n := 0
		for _, l := range lists {
			k := protocol.NewLiveKey(l.id())
			if slices.ContainsFunc(heard, func(f [][]byte) bool {
				m, err := k.Open(f)
				return err == nil && bytes.Equal(m.Body, last[l.id()])
			}) {
				n++
			}
		}
		return n
	}
	for heardLast() < nLists {
		if time.Now().After(deadline) {
			t.Fatalf("the eavesdropper heard the last update of %d of %d lists within %v", heardLast(), nLists, testTimeout)
		}
		listen(100 * time.Millisecond)
	}

	// What it heard shows no list ID, list name or item name.
	type secret struct {
		what  string
		bytes []byte
	}
	var secrets []secret
	for i, l := range lists {
		id := l.id()
		text := id.String()
		secrets = append(secrets,
			secret{fmt.Sprintf("the ID of list %d (16 bytes)", i), id[:]},
			secret{fmt.Sprintf("the ID of list %d as text", i), []byte(text)},
			secret{fmt.Sprintf("the ID of list %d as upper-case text", i), []byte(strings.ToUpper(text))},
			secret{fmt.Sprintf("the ID of list %d as hex", i), []byte(strings.ReplaceAll(text, "-", ""))},
			secret{fmt.Sprintf("the name of list %d", i), []byte(fmt.Sprintf("secret list %d", i))})
	}
	for _, item := range items {
		secrets = append(secrets, secret{"item " + item, []byte(item)}, secret{"the key of item " + item, []byte(crdt.Normalize(item))})
	}
	wrong := protocol.NewLiveKey(uuid.New())
	for n, frames := range heard {
		for i, f := range frames {
			for _, s := range secrets {
				if bytes.Contains(f, s.bytes) {
					t.Errorf("frame %d of message %d (%d bytes) holds %s", i, n, len(f), s.what)
				}
			}
		}
		// Only its list's key opens it: not a key of another list, on its
		// own topic or moved to the other list's.
		topic, err := protocol.PubTopic(frames)
		if err != nil {
			t.Errorf("message %d: %v", n, err)
			continue
		}
		k := keys[topic]
		if k == nil {
			t.Errorf("message %d is on topic %x, which is none of the lists'", n, frames[0])
			continue
		}
		if _, err := k.Open(frames); err != nil {
			t.Errorf("message %d does not open with its list's key: %v", n, err)
		}
		if m, err := wrong.Open(frames); err == nil {
			t.Errorf("message %d opened with a wrong key: %+v", n, m)
		}
		if m, err := wrong.Open([][]byte{wrong.Topic(), frames[1]}); !errors.Is(err, protocol.ErrNotAuthentic) {
			t.Errorf("message %d moved to another topic: %+v, %v; want ErrNotAuthentic", n, m, err)
		}
	}
	t.Logf("the eavesdropper heard %d messages of %d lists", len(heard), nLists)
}

// waitEngineEvent reads eng's events until one satisfies ok, for at most d.
func waitEngineEvent(eng *syncer.Engine, d time.Duration, ok func(syncer.Event) bool) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case ev := <-eng.Events():
			if ok(ev) {
				return true
			}
		case <-timer.C:
			return false
		}
	}
}
