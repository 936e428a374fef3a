package syncer_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/client/syncer"
	"shoplist/crdt"
	"shoplist/testing/testcluster"
)

// Edits made while the proxy is down are kept and pushed when it comes
// back, with no call from the test beyond waiting.
func TestEditsWhileProxyIsDownArePushedWhenItReturns(t *testing.T) {
	t.Parallel()
	c := testcluster.Start(t, 3)
	a := newClient(t, "a", c.Endpoint())
	id := a.create("groceries")
	a.waitSynced(id)

	c.StopProxy()
	a.waitConn(syncer.Offline)
	a.edit(id, add("milk", 2))
	a.edit(id, add("eggs", 12))
	eventually(t, "the edit pending", func() bool { return a.eng.Status().Pending == 1 })
	if !a.get(id).Pending {
		t.Fatal("the edits are not pending while the proxy is down")
	}

	c.StartProxy()
	eventually(t, "the edits pushed", func() bool { return !a.get(id).Pending })
	got := clusterList(t, c.Endpoint(), id)
	for item, want := range map[string]int64{"milk": 2, "eggs": 12} {
		if v, ok := got.Lookup(item); !ok || v.Wanted != want {
			t.Errorf("the cluster has %s %+v (present %v), want %d wanted", item, v, ok, want)
		}
	}
}

// An engine that has never reached the cluster keeps the edits made
// meanwhile and pushes them, and the new list, once it can; its status goes
// from not online with lists pending to online with none.
func TestEditsBeforeTheClusterIsReachableArePushedAndStatusFollows(t *testing.T) {
	t.Parallel()
	c := testcluster.Start(t, 3)
	c.StopProxy()
	a := newClient(t, "a", c.Endpoint())
	if st := a.eng.Status(); st.Conn == syncer.Online || st.Proxy != c.Endpoint() {
		t.Fatalf("status %+v with the proxy down, want not online, proxy %s", st, c.Endpoint())
	}
	one := a.create("one")
	two := a.create("two")
	a.edit(two, add("bread", 1))
	eventually(t, "two lists pending", func() bool { return a.eng.Status().Pending == 2 },
		func() string { return fmt.Sprintf("status %+v", a.eng.Status()) })
	eventually(t, "an error saying why the engine is offline", func() bool { return a.eng.Status().LastErr != "" })
	if st := a.eng.Status(); st.Conn == syncer.Online || st.Syncing {
		t.Fatalf("status %+v with the proxy down, want neither online nor syncing", st)
	}

	// From here every status change is collected.
	statuses := make(chan syncer.Status, 1000)
	stop := make(chan struct{})
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for {
			select {
			case ev := <-a.eng.Events():
				if ev.Kind == syncer.StatusChanged {
					statuses <- a.eng.Status()
				}
			case <-stop:
				return
			}
		}
	}()
	c.StartProxy()
	eventually(t, "online with nothing pending", func() bool {
		st := a.eng.Status()
		return st.Conn == syncer.Online && st.Pending == 0 && !st.Syncing && st.LastErr == ""
	}, func() string { return fmt.Sprintf("status %+v", a.eng.Status()) })
	close(stop)
	<-collected
	close(statuses)
	var seen []syncer.Status
	for st := range statuses {
		seen = append(seen, st)
	}
	if !slices.ContainsFunc(seen, func(st syncer.Status) bool { return st.Conn == syncer.Online }) {
		t.Errorf("no StatusChanged event showed the engine online: %+v", seen)
	}
	for _, id := range []uuid.UUID{one, two} {
		if clusterList(t, c.Endpoint(), id) == nil {
			t.Errorf("the cluster does not have list %s", id)
		}
	}
	if v, ok := clusterList(t, c.Endpoint(), two).Lookup("bread"); !ok || v.Wanted != 1 {
		t.Errorf("the cluster's list two has bread %+v, %v; want 1", v, ok)
	}
	if e := a.get(one); e.LastSync.IsZero() {
		t.Error("no last sync time after the list was pushed")
	}
}

// Two clients edit one list offline, then sync: they converge to the same
// list with both sets of edits, and concurrent adds of one item add up.
func TestTwoClientsEditingOfflineConverge(t *testing.T) {
	t.Parallel()
	c := testcluster.Start(t, 3)
	a := newClient(t, "a", c.Endpoint())
	b := newClient(t, "b", c.Endpoint())
	id := a.create("shared")
	a.edit(id, add("bread", 1))
	a.waitSynced(id)
	joinCtx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	must(t, b.eng.Join(joinCtx, id))

	c.StopProxy()
	a.waitConn(syncer.Offline)
	b.waitConn(syncer.Offline)
	a.edit(id, add("milk", 2))
	a.edit(id, add("apples", 6))
	b.edit(id, add("milk", 3))
	b.edit(id, add("eggs", 12))
	b.edit(id, func(l *crdt.List, c *crdt.Clock) error { return l.Buy(c, "bread", 1) })

	c.StartProxy()
	// Both push; then each pulls what the other pushed.
	eventually(t, "both pushed", func() bool { return !a.get(id).Pending && !b.get(id).Pending })
	a.waitSynced(id)
	b.waitSynced(id)

	la, lb := a.get(id).List, b.get(id).List
	if string(la.Encode()) != string(lb.Encode()) {
		t.Fatalf("the clients differ:\na: %+v\nb: %+v", la.Items(), lb.Items())
	}
	want := map[string]int64{"milk": 5, "apples": 6, "eggs": 12, "bread": 1}
	for item, n := range want {
		if v, ok := la.Lookup(item); !ok || v.Wanted != n {
			t.Errorf("%s: %+v (present %v), want %d wanted", item, v, ok, n)
		}
	}
	if v, _ := la.Lookup("bread"); !v.Acquired {
		t.Errorf("bread %+v: b's purchase is lost", v)
	}
	if got := clusterList(t, c.Endpoint(), id); string(got.Encode()) != string(la.Encode()) {
		t.Errorf("the cluster's list differs from the clients': %+v", got.Items())
	}
}

// A list joined by ID arrives with its items; joining an ID the cluster
// does not know is ErrNotFound.
func TestJoin(t *testing.T) {
	t.Parallel()
	c := testcluster.Start(t, 3)
	a := newClient(t, "a", c.Endpoint())
	b := newClient(t, "b", c.Endpoint())
	id := a.create("party")
	a.edit(id, add("crisps", 4))
	a.waitSynced(id)

	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := b.eng.Join(ctx, id); err != nil {
		t.Fatalf("Join: %v", err)
	}
	e := b.get(id)
	if e.List.Name() != "party" || b.wanted(id, "crisps") != 4 || e.Pending || e.LastSync.IsZero() {
		t.Fatalf("joined list %q %+v, pending %v, last sync %v; want party with 4 crisps, synced",
			e.List.Name(), e.List.Items(), e.Pending, e.LastSync)
	}
	b.waitEvent("ListsChanged", func(ev syncer.Event) bool { return ev.Kind == syncer.ListsChanged })

	err := b.eng.Join(ctx, uuid.New())
	if !isErr(err, syncer.ErrNotFound) {
		t.Fatalf("Join of an unknown list: %v, want ErrNotFound", err)
	}
	if err := b.eng.Join(ctx, uuid.Nil); !isErr(err, syncer.ErrNotFound) {
		t.Fatalf("Join of the nil ID: %v, want ErrNotFound", err)
	}
	all, err := b.store.All()
	must(t, err)
	if len(all) != 1 {
		t.Errorf("%d local lists after joining an unknown one, want 1", len(all))
	}
}

// Join with no cluster to reach is ErrOffline when its context ends, and at
// once in offline mode; so is WaitSynced.
func TestJoinAndWaitSyncedWithoutACluster(t *testing.T) {
	t.Parallel()
	a := newClient(t, "a", deadEndpoint(t))
	id := a.create("alone")
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := a.eng.Join(ctx, uuid.New()); !isErr(err, syncer.ErrOffline) || !isErr(err, context.DeadlineExceeded) {
		t.Errorf("Join with no cluster: %v, want ErrOffline wrapping the deadline", err)
	}
	if err := a.eng.WaitSynced(ctx, id); !isErr(err, syncer.ErrOffline) {
		t.Errorf("WaitSynced with no cluster: %v, want ErrOffline", err)
	}
	if !a.get(id).Pending {
		t.Error("the new list is not pending")
	}

	off := newClientIn(t, "offline", t.TempDir(), func(cfg *syncer.Config) { cfg.Offline, cfg.Endpoints = true, nil })
	if err := off.eng.Join(context.Background(), uuid.New()); !isErr(err, syncer.ErrOffline) {
		t.Errorf("Join in offline mode: %v, want ErrOffline", err)
	}
	if err := off.eng.WaitSynced(context.Background()); !isErr(err, syncer.ErrOffline) {
		t.Errorf("WaitSynced in offline mode: %v, want ErrOffline", err)
	}
	off.create("local only")
	eventually(t, "the offline engine counts the pending list", func() bool { return off.eng.Status().Pending == 1 })
	if st := off.eng.Status(); st.Conn != syncer.Offline || st.Proxy != "" {
		t.Errorf("offline engine's status %+v", st)
	}
}

// Live updates arrive: what A pushes reaches B as a ListChanged event with
// Remote set and the item keys, and B's replica has it. B's periodic
// re-pull is off, so only a live update can bring it.
func TestLiveUpdatesArrive(t *testing.T) {
	t.Parallel()
	c := testcluster.Start(t, 3)
	a := newClient(t, "a", c.Endpoint())
	b := newClient(t, "b", c.Endpoint())
	id := a.create("live")
	a.waitSynced(id)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	must(t, b.eng.Join(ctx, id))

	// B's SUB may still be connecting: warm up until one update arrives.
	// Updates of one publisher arrive in order, so after that none is lost.
	remoteWith := func(key string) func(syncer.Event) bool {
		return func(ev syncer.Event) bool {
			return ev.Kind == syncer.ListChanged && ev.List == id && ev.Remote && slices.Contains(ev.Keys, key)
		}
	}
	deadline := time.Now().Add(waitTimeout)
	for i := 0; ; i++ {
		key := fmt.Sprintf("warm-up %d", i)
		a.edit(id, add(key, 1))
		if _, ok := b.nextEvent(time.Second, remoteWith(key)); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no live update reached b within %v", waitTimeout)
		}
	}

	a.edit(id, add("Milk", 2))
	ev := b.waitEvent("ListChanged for milk", remoteWith("milk"))
	if !slices.Equal(ev.Keys, []string{"milk"}) {
		t.Errorf("event keys %q, want [milk]", ev.Keys)
	}
	if got := b.wanted(id, "milk"); got != 2 {
		t.Errorf("b's replica wants %d milk, want 2", got)
	}
	if b.get(id).Pending {
		t.Error("a merged live update made b's list pending")
	}
}

// Failover: with a dead endpoint first, the engine goes online through the
// second.
func TestFailoverToTheNextEndpoint(t *testing.T) {
	t.Parallel()
	c := testcluster.Start(t, 3)
	a := newClient(t, "a", deadEndpoint(t), c.Endpoint())
	id := a.create("failover")
	a.waitConn(syncer.Online)
	if st := a.eng.Status(); st.Proxy != c.Endpoint() {
		t.Errorf("online through %q, want %q", st.Proxy, c.Endpoint())
	}
	a.waitSynced(id)
	if clusterList(t, c.Endpoint(), id) == nil {
		t.Error("the list did not reach the cluster")
	}
}

// An edit made by another process (another Store on the same directory,
// with no Kick) is noticed through Generation and pushed.
func TestEditByAnotherProcessIsPushed(t *testing.T) {
	t.Parallel()
	c := testcluster.Start(t, 3)
	dir := t.TempDir()
	a := newClientIn(t, "a", dir, func(*syncer.Config) {}, c.Endpoint())
	a.waitConn(syncer.Online)

	other, err := replicaOpen(t, dir)
	must(t, err)
	e, err := other.Create("from the CLI")
	must(t, err)
	id := e.List.ID()
	_, _, err = other.Edit(id, add("tea", 1))
	must(t, err)

	a.waitEvent("ListsChanged", func(ev syncer.Event) bool { return ev.Kind == syncer.ListsChanged })
	eventually(t, "the other process's list pushed", func() bool { return !a.get(id).Pending })
	got := clusterList(t, c.Endpoint(), id)
	if got == nil {
		t.Fatal("the cluster does not have the list")
	}
	if v, ok := got.Lookup("tea"); !ok || v.Wanted != 1 {
		t.Errorf("the cluster's list has tea %+v, %v; want 1", v, ok)
	}

	// A later edit of the existing list by the other process is pushed too.
	_, _, err = other.Edit(id, add("tea", 2))
	must(t, err)
	eventually(t, "the second edit pushed", func() bool {
		if a.get(id).Pending {
			return false
		}
		v, _ := clusterList(t, c.Endpoint(), id).Lookup("tea")
		return v.Wanted == 3
	})
}
