package syncer

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"shoplist/client/replica"
	"shoplist/crdt"
	"shoplist/protocol"
)

// callKind is what a request was.
type callKind int

const (
	callHello callKind = iota
	callPush
	callPull
	callSubscribe
	callJoin
)

// String names the request, for errors and logs.
func (k callKind) String() string {
	return [...]string{"Hello", "Push", "Pull", "Subscribe", "Pull (join)"}[k]
}

// call is a request awaiting its reply.
type call struct {
	kind     callKind
	list     uuid.UUID
	deadline time.Time
	tok      replica.PushToken // push: what Store.Pushed acknowledges
	hasTok   bool              // push: tok is set (a seed push may carry none)
	seed     bool              // push: the whole list, which the cluster lacked
	seq      uint64            // pull: pullSeq when sent
	known    bool              // pull: it named the replica's state (PullBody), so Unchanged may answer it
	join     *joinReq          // join: who waits
}

// request sends the message build makes with a fresh request ID and
// records c as waiting for its reply. If the DEALER refuses it, the
// connection fails and ok is false.
func (l *loop) request(c *call, build func(id uint64) protocol.Message) (id uint64, ok bool) {
	if l.dealer == nil {
		return 0, false
	}
	id = l.ids.Next()
	if _, err := l.dealer.SendMessageDontwait(build(id).Frames()); err != nil {
		l.fail(fmt.Errorf("%w: sending to %s: %w", ErrOffline, l.endpoint, err))
		return 0, false
	}
	c.deadline = l.now.Add(l.cfg.Timeout)
	l.calls[id] = c
	return id, true
}

// abandon forgets a request of a failed connection; what it was for is
// done again on the next one.
func (l *loop) abandon(c *call) {
	switch c.kind {
	case callPush:
		if ls := l.lists[c.list]; ls != nil {
			ls.pushing, ls.needPush = 0, true
		}
	case callPull:
		if ls := l.lists[c.list]; ls != nil {
			ls.pulling, ls.needPull = 0, true
		}
	case callJoin:
		c.join.sent = 0
	}
}

// pump sends the requests that are due, while online: joins, then each
// list's pull and push, up to maxInFlight requests outstanding.
func (l *loop) pump() {
	for _, j := range l.joins {
		if l.state != Online || len(l.calls) >= maxInFlight {
			return
		}
		if j.sent == 0 && j.ctx.Err() == nil {
			id := j.id
			j.sent, _ = l.request(&call{kind: callJoin, list: id, join: j}, func(rid uint64) protocol.Message { return protocol.NewPull(rid, id) })
		}
	}
	for _, ls := range l.lists {
		if l.state != Online || len(l.calls) >= maxInFlight {
			return
		}
		if ls.retryAt.After(l.now) {
			continue
		}
		if ls.needPull && ls.pulling == 0 {
			l.sendPull(ls)
		}
		if (ls.needPush || ls.seed) && ls.pushing == 0 && ls.pulledNow {
			l.sendPush(ls)
		}
	}
}

// sendPull pulls a list. A list held here with nothing unpushed is pulled
// naming its state by its hash, so that the proxy answers Unchanged, with
// no state to decode or merge, when the cluster holds just that state.
func (l *loop) sendPull(ls *list) {
	l.pullSeq++
	c := &call{kind: callPull, list: ls.id, seq: l.pullSeq}
	id := ls.id
	pull := func(rid uint64) protocol.Message { return protocol.NewPull(rid, id) }
	if known, ok := l.knownState(ls); ok {
		c.known = true
		pull = func(rid uint64) protocol.Message { return protocol.NewPullKnown(rid, id, known) }
	}
	if rid, ok := l.request(c, pull); ok {
		ls.pulling, ls.needPull = rid, false
	}
}

// knownState returns the crdt.StateHash of the replica's encoding of a list
// with nothing unpushed (and that the cluster is not missing); false
// otherwise, or if the replica cannot be read (the pull then asks for the
// state as it always did).
func (l *loop) knownState(ls *list) (uint64, bool) {
	if ls.pending || ls.seed {
		return 0, false
	}
	e, err := l.store.Get(ls.id)
	if err != nil || e.Pending {
		return 0, false
	}
	return crdt.StateHash(e.List.Encode()), true
}

// sendPush pushes a list's unpushed parts, or the whole list if the
// cluster lacks it (seed).
func (l *loop) sendPush(ls *list) {
	delta, tok, ok, err := l.store.Unpushed(ls.id)
	if err != nil {
		l.replicaFailed(ls, "reading unpushed changes", err)
		return
	}
	ls.needPush, ls.pending = false, ok
	if !ok && !ls.seed {
		return
	}
	c := &call{kind: callPush, list: ls.id, tok: tok, hasTok: ok, seed: ls.seed}
	var body []byte
	if ls.seed {
		e, err := l.store.Get(ls.id)
		if err != nil {
			l.replicaFailed(ls, "reading the list", err)
			return
		}
		body = e.List.Encode()
	} else {
		body = delta.Encode()
	}
	id := ls.id
	if rid, ok := l.request(c, func(rid uint64) protocol.Message { return protocol.NewPush(rid, id, body) }); ok {
		ls.pushing = rid
	}
}

// onReply handles one message on the DEALER.
func (l *loop) onReply(frames [][]byte) {
	l.lastRecv = l.now // any message proves the proxy alive
	m, err := protocol.Parse(frames)
	if err != nil {
		l.badMessage("reply", err)
		return
	}
	c, ok := l.calls[m.RequestID]
	if !ok {
		if m.Type == protocol.TypeError {
			l.log.Warn("error from proxy for no request", "proxy", l.endpoint, "id", m.RequestID, "err", m.Err())
		} else {
			l.log.Debug("reply to no request dropped", "proxy", l.endpoint, "id", m.RequestID, "type", m.Type)
		}
		return
	}
	delete(l.calls, m.RequestID)
	switch c.kind {
	case callHello:
		l.helloID = 0
		l.onHelloReply(m)
	case callPush:
		l.onPushed(c, m)
	case callPull:
		l.onPulled(c, m)
	case callSubscribe:
		if m.Type != protocol.TypeOK {
			l.log.Warn("subscription refused", "proxy", l.endpoint, "type", m.Type, "err", m.Err())
		}
	case callJoin:
		l.onJoined(c, m)
	}
}

// onPushed handles the answer to a push.
func (l *loop) onPushed(c *call, m protocol.Message) {
	ls := l.lists[c.list]
	if ls == nil { // forgotten meanwhile
		return
	}
	ls.pushing = 0
	if m.Type != protocol.TypeOK {
		ls.needPush = true
		l.listFailed(ls, &ls.pushErr, pushError(c.list, m))
		l.failOverIfBehind(m)
		return
	}
	if c.hasTok {
		if err := l.store.Pushed(c.list, c.tok); err != nil {
			l.replicaFailed(ls, "recording a push", err)
			return
		}
	}
	if c.seed {
		ls.seed = false
		if err := l.store.Synced(c.list); err != nil {
			l.replicaFailed(ls, "recording a sync", err)
			return
		}
	}
	ls.pushErr, ls.backoff = failure{}, 0
	e, err := l.store.Get(c.list)
	if err != nil {
		l.replicaFailed(ls, "reading the list", err)
		return
	}
	ls.pending = e.Pending
	ls.needPush = ls.needPush || e.Pending // edited again while the push was out
	l.log.Debug("pushed", "list", c.list, "seed", c.seed, "pending", e.Pending)
}

// pushError explains a push's refusal; a clock-skew refusal says what to do.
func pushError(id uuid.UUID, m protocol.Message) error {
	err := m.Err()
	switch {
	case m.Type != protocol.TypeError:
		return fmt.Errorf("syncer: push of list %s answered by %v", id, m.Type)
	case protocol.CodeOf(err) == protocol.CodeClockSkew:
		return fmt.Errorf("syncer: the cluster refused list %s because this computer's clock is ahead: fix the clock; the edits are kept locally (%w)", id, err)
	}
	return fmt.Errorf("syncer: push of list %s: %w", id, err)
}

// onPulled merges a pulled state into the replica.
func (l *loop) onPulled(c *call, m protocol.Message) {
	ls := l.lists[c.list]
	if ls == nil {
		return
	}
	ls.pulling = 0
	fail := func(err error) {
		ls.needPull = true
		l.listFailed(ls, &ls.pullErr, err)
	}
	switch {
	case m.Type == protocol.TypeError:
		fail(fmt.Errorf("syncer: pull of list %s: %w", c.list, m.Err()))
		l.failOverIfBehind(m)
		return
	case m.Type == protocol.TypeUnchanged && c.known && m.ListID == c.list:
		// The cluster holds the very state the pull named: nothing to
		// merge, and the list is pulled, as after a PullReply that
		// changed nothing.
		if err := l.store.Synced(c.list); err != nil {
			l.replicaFailed(ls, "recording a sync", err)
			return
		}
		e, err := l.store.Get(c.list)
		if err != nil {
			l.replicaFailed(ls, "reading the list", err)
			return
		}
		ls.pending = e.Pending
		ls.pulledSeq, ls.pullErr, ls.backoff, ls.pulledNow = c.seq, failure{}, 0, true
		l.log.Debug("pulled: unchanged", "list", c.list)
		return
	case m.Type != protocol.TypePullReply || m.ListID != c.list:
		l.badMessage("pull reply", fmt.Errorf("%w: Pull of %s answered by %v for %s", protocol.ErrMalformed, c.list, m.Type, m.ListID))
		fail(fmt.Errorf("syncer: pull of list %s answered by %v", c.list, m.Type))
		return
	case len(m.Body) == 0:
		// The cluster does not know the list: one created here whose push
		// is yet to land (its unpushed parts are the whole list: it never
		// synced), or one the cluster lost, which is pushed whole.
		e, err := l.store.Get(c.list)
		if err != nil {
			l.replicaFailed(ls, "reading the list", err)
			return
		}
		ls.pending = e.Pending
		ls.seed = !e.Pending || !e.LastSync.IsZero()
		ls.needPush = ls.needPush || e.Pending
		ls.pulledSeq, ls.pullErr, ls.backoff, ls.pulledNow = c.seq, failure{}, 0, true
		return
	}
	remote, err := decodeList(c.list, m.Body)
	if err != nil {
		l.badMessage("pull reply", err)
		fail(fmt.Errorf("syncer: pull of list %s: %w", c.list, err))
		return
	}
	e, keys, dropped, err := l.store.MergeComplete(remote, false)
	if err != nil {
		l.replicaFailed(ls, "merging", err)
		return
	}
	ls.pending = e.Pending
	if len(keys) > 0 {
		l.emit(Event{Kind: ListChanged, List: ls.id, Keys: keys, Remote: true, Dropped: dropped})
	}
	if len(dropped) > 0 {
		l.log.Warn("the cluster forgot items this replica still had; dropped them", "list", ls.id, "items", dropped)
	}
	if err := l.store.Synced(c.list); err != nil {
		l.replicaFailed(ls, "recording a sync", err)
		return
	}
	ls.pulledSeq, ls.pullErr, ls.backoff, ls.pulledNow = c.seq, failure{}, 0, true
}

// onLive merges a live update. Its topic names the local list whose key
// must open it; the update's header and its body must then both be that
// list.
func (l *loop) onLive(frames [][]byte) {
	topic, err := protocol.PubTopic(frames)
	if err != nil {
		l.badMessage("live update", err)
		return
	}
	ls := l.byTopic[topic]
	if ls == nil {
		l.log.Debug("live update for a list not local dropped", "topic", fmt.Sprintf("%x", topic))
		return
	}
	m, err := ls.live.Open(frames)
	if err == nil && m.ListID != ls.id {
		err = fmt.Errorf("%w: live update on the topic of list %s names list %s", protocol.ErrMalformed, ls.id, m.ListID)
	}
	if err != nil {
		l.badMessage("live update", err)
		return
	}
	remote, err := decodeList(ls.id, m.Body)
	if err != nil {
		l.badMessage("live update", err)
		return
	}
	l.merge(ls, remote)
}

// merge joins a remote state into the replica and announces what changed.
// It reports whether the list is still local and the merge worked.
func (l *loop) merge(ls *list, remote *crdt.List) bool {
	e, keys, err := l.store.Merge(remote, false)
	if err != nil {
		l.replicaFailed(ls, "merging", err)
		return false
	}
	ls.pending = e.Pending
	if len(keys) > 0 {
		l.emit(Event{Kind: ListChanged, List: ls.id, Keys: keys, Remote: true})
	}
	return true
}

// decodeList decodes a list body that should be list id.
func decodeList(id uuid.UUID, body []byte) (*crdt.List, error) {
	remote, err := crdt.Decode(body)
	if err != nil {
		return nil, err
	}
	if remote.ID() != id {
		return nil, fmt.Errorf("%w: body of list %s is list %s", protocol.ErrMalformed, id, remote.ID())
	}
	return remote, nil
}

// onJoined finishes a Join.
func (l *loop) onJoined(c *call, m protocol.Message) {
	j := c.join
	l.dropJoin(j)
	if j.ctx.Err() != nil { // the caller gave up and was told so
		return
	}
	j.result <- l.join(c.list, m)
}

// join stores the list a join pulled.
func (l *loop) join(id uuid.UUID, m protocol.Message) error {
	switch {
	case m.Type == protocol.TypeError:
		return fmt.Errorf("syncer: join %s: %w", id, m.Err())
	case m.Type != protocol.TypePullReply || m.ListID != id:
		l.badMessage("pull reply", fmt.Errorf("%w: Pull of %s answered by %v for %s", protocol.ErrMalformed, id, m.Type, m.ListID))
		return fmt.Errorf("syncer: join %s: the proxy answered %v", id, m.Type)
	case len(m.Body) == 0:
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	remote, err := decodeList(id, m.Body)
	if err != nil {
		l.badMessage("pull reply", err)
		return fmt.Errorf("syncer: join %s: %w", id, err)
	}
	e, keys, err := l.store.Merge(remote, true)
	if err != nil {
		return fmt.Errorf("syncer: join %s: %w", id, err)
	}
	if err := l.store.Synced(id); err != nil {
		return fmt.Errorf("syncer: join %s: %w", id, err)
	}
	ls := l.lists[id]
	if ls == nil {
		ls = l.addList(id)
		l.emit(Event{Kind: ListsChanged})
	}
	ls.pending = e.Pending
	ls.needPush = ls.needPush || e.Pending
	if len(keys) > 0 {
		l.emit(Event{Kind: ListChanged, List: id, Keys: keys, Remote: true})
	}
	return nil
}

// failOverIfBehind gives up the proxy when m says it routes by an older
// ring than the servers (StaleEpoch): it lags its group or is cut off from
// it, and another proxy of the group can serve the requests.
func (l *loop) failOverIfBehind(m protocol.Message) {
	if protocol.CodeOf(m.Err()) == protocol.CodeStaleEpoch {
		l.fail(fmt.Errorf("%w: %s lags its group's ring: %w", ErrOffline, l.endpoint, m.Err()))
	}
}

// listFailed records a failed request for a list, into *slot, and delays
// the list's next requests by its back-off, which doubles up to MaxBackoff.
func (l *loop) listFailed(ls *list, slot *failure, err error) {
	*slot = failure{err: err, at: l.now}
	ls.backoff = min(max(2*ls.backoff, minBackoff), l.cfg.MaxBackoff)
	ls.retryAt = l.now.Add(ls.backoff)
	l.log.Warn("sync failed", "list", ls.id, "err", err, "retry_in", ls.backoff)
}

// replicaFailed handles a failure of the local replica: a list forgotten
// meanwhile is dropped; anything else is retried later.
func (l *loop) replicaFailed(ls *list, doing string, err error) {
	if errors.Is(err, replica.ErrNotFound) {
		l.log.Debug("list forgotten meanwhile", "list", ls.id)
		l.dropList(ls.id)
		l.emit(Event{Kind: ListsChanged})
		return
	}
	err = fmt.Errorf("syncer: list %s: %s: %w", ls.id, doing, err)
	ls.needPull, ls.needPush = true, true
	l.listFailed(ls, &ls.pushErr, err)
}
