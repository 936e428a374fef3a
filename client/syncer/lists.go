package syncer

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"shoplist/client/replica"
	"shoplist/protocol"
)

// pollGeneration reloads the lists when another process (or this one)
// wrote to the replica since the last load.
func (l *loop) pollGeneration() {
	g, err := l.store.Generation()
	if err != nil {
		l.storeErr = fmt.Errorf("syncer: reading the replica: %w", err)
		return
	}
	if g != l.gen {
		l.rescan()
	}
}

// rescan loads the replica's lists: it starts tracking new ones (subscribe,
// pull, push), stops tracking forgotten ones, and notes which have unpushed
// parts, so edits made by another process get pushed.
func (l *loop) rescan() {
	g, err := l.store.Generation() // before All, so a write in between is seen next time
	if err == nil {
		var entries []replica.Entry
		entries, err = l.store.All()
		// A corrupt record is moved aside and left out; the others load.
		if err == nil || errors.Is(err, replica.ErrCorrupt) {
			l.load(entries)
			l.gen = g
		}
	}
	if err != nil {
		l.storeErr = fmt.Errorf("syncer: reading the replica: %w", err)
		l.log.Warn("cannot read the replica", "err", err)
		return
	}
	l.storeErr = nil
}

// load updates the tracked lists from the replica's entries.
func (l *loop) load(entries []replica.Entry) {
	seen := make(map[uuid.UUID]bool, len(entries))
	var added []uuid.UUID
	for _, e := range entries {
		id := e.List.ID()
		seen[id] = true
		ls := l.lists[id]
		if ls == nil {
			ls = l.addList(id)
			added = append(added, id)
		}
		ls.pending = e.Pending
		ls.needPush = ls.needPush || e.Pending
	}
	var gone []uuid.UUID
	for id := range l.lists {
		if !seen[id] {
			gone = append(gone, id)
		}
	}
	for _, id := range gone {
		l.dropList(id)
	}
	if len(added) > 0 || len(gone) > 0 {
		l.log.Debug("lists changed", "added", len(added), "forgotten", len(gone))
		l.emit(Event{Kind: ListsChanged})
	}
}

// addList starts tracking a local list: subscribe, pull and push it.
func (l *loop) addList(id uuid.UUID) *list {
	ls := &list{id: id, live: protocol.NewLiveKey(id), needPull: true, needPush: true}
	l.lists[id] = ls
	l.byTopic[ls.live.TopicKey()] = ls
	l.subscribeTopic(ls)
	l.announce(protocol.NewSubscribe, []uuid.UUID{id})
	return ls
}

// dropList stops tracking a list that is no longer local; replies still on
// the way for it are ignored.
func (l *loop) dropList(id uuid.UUID) {
	ls := l.lists[id]
	if ls == nil {
		return
	}
	l.unsubscribeTopic(ls)
	delete(l.lists, id)
	delete(l.byTopic, ls.live.TopicKey())
	l.announce(protocol.NewUnsubscribe, []uuid.UUID{id})
}

// kick handles Engine.Kick: look for unpushed parts of these lists now,
// and connect now if waiting for a back-off.
func (l *loop) kick(ids []uuid.UUID) {
	unknown := false
	for _, id := range ids {
		ls := l.lists[id]
		if ls == nil {
			unknown = true
			continue
		}
		ls.needPush = true
		if e, err := l.store.Get(id); err == nil {
			ls.pending = e.Pending
		}
	}
	if unknown || len(ids) == 0 {
		l.rescan()
	}
	l.connectSoon()
}

// connectSoon ends the back-off: someone wants to sync now.
func (l *loop) connectSoon() {
	if !l.cfg.Offline && l.dealer == nil {
		l.retryAt = l.now
	}
}

// addWaiter registers a WaitSynced: its lists are pulled (again) and their
// unpushed parts pushed, and it is answered once all are done.
func (l *loop) addWaiter(w *waiter) {
	if len(w.ids) == 0 {
		for id := range l.lists {
			w.ids = append(w.ids, id)
		}
	}
	if slices.ContainsFunc(w.ids, func(id uuid.UUID) bool { return l.lists[id] == nil }) {
		l.rescan() // perhaps created a moment ago
	}
	for _, id := range w.ids {
		ls := l.lists[id]
		if ls == nil {
			w.result <- fmt.Errorf("syncer: %w: %s", replica.ErrNotFound, id)
			return
		}
		ls.needPull, ls.needPush, ls.retryAt = true, true, time.Time{}
	}
	w.seq = l.pullSeq
	l.waiters = append(l.waiters, w)
	l.connectSoon()
}

// synced reports whether a list has nothing left to push and was pulled
// after seq.
func (ls *list) synced(seq uint64) bool {
	return ls.pulledSeq > seq && !ls.pending && !ls.seed && !ls.needPush && ls.pushing == 0
}

// checkWaiters answers the waiters whose lists are synced and forgets
// those, and the joins, whose callers gave up.
func (l *loop) checkWaiters() {
	l.waiters = slices.DeleteFunc(l.waiters, func(w *waiter) bool {
		if w.ctx.Err() != nil {
			return true
		}
		if l.state != Online { // even with no lists: the cluster must be reachable
			return false
		}
		for _, id := range w.ids {
			ls := l.lists[id]
			if ls == nil {
				w.result <- fmt.Errorf("syncer: %w: %s (forgotten while syncing)", replica.ErrNotFound, id)
				return true
			}
			if !ls.synced(w.seq) {
				return false
			}
		}
		w.result <- nil
		return true
	})
	l.joins = slices.DeleteFunc(l.joins, func(j *joinReq) bool { return j.ctx.Err() != nil && j.sent == 0 })
}

// dropJoin forgets a join.
func (l *loop) dropJoin(j *joinReq) {
	l.joins = slices.DeleteFunc(l.joins, func(o *joinReq) bool { return o == j })
}

// failWaiters answers every waiter and join with err (the engine stops).
func (l *loop) failWaiters(err error) {
	for _, w := range l.waiters {
		w.result <- err
	}
	for _, j := range l.joins {
		j.result <- err
	}
	l.waiters, l.joins = nil, nil
}
