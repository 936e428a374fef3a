package proxy

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"shoplist/cluster/antientropy"
	"shoplist/cluster/placement"
	"shoplist/cluster/removal"
)

// The leader's duties, run on the loop: anti-entropy rounds (package
// antientropy) and the removal of dead and drained members (package
// removal). Each package decides; the loop sends what they ask for, hands
// them what they need to know and runs the membership's Remove off the
// loop.

// leaderOf returns what says whether this proxy leads: the membership when
// a group of proxies shares it (placement.Leader); a proxy alone leads.
func leaderOf(m placement.Membership) placement.Leader {
	if ld, ok := m.(placement.Leader); ok {
		return ld
	}
	return alone{}
}

// alone is the Leader of a proxy without a group.
type alone struct{}

func (alone) IsLeader() bool { return true }

// removeDead starts the removals a sweep finds due.
func (l *loop) removeDead() {
	for _, rm := range l.removals.Sweep(l.now, l.ring.view, l.removalServer) {
		l.startRemove(rm)
	}
}

// removalServer is what the removal decisions need of a server; false if
// it has not said hello.
func (l *loop) removalServer(id string) (removal.Server, bool) {
	pr := l.peers.byID[id]
	if pr == nil {
		return removal.Server{}, false
	}
	return pr.forRemoval(), true
}

// forRemoval is the server as the removal decisions see it.
func (p *peer) forRemoval() removal.Server {
	return removal.Server{
		Usable:   p.usable(),
		LastSeen: p.lastSeen,
		Report:   removal.Report{Lists: p.report.Lists, Hints: p.report.Hints, Epoch: p.report.epoch, At: p.report.at},
	}
}

// startRemove asks the membership to remove a member, off the loop.
func (l *loop) startRemove(rm removal.Removal) {
	l.spawn(func(ctx context.Context) {
		err := l.ring.members.Remove(ctx, rm.ID)
		l.post(ctx, func(l *loop) { l.removed(rm.ID, err) })
	})
}

// removed handles the end of a removal.
func (l *loop) removed(id string, err error) {
	if l.removals.Done(l.now, id, err) {
		l.stats.removals++
	}
	l.refreshView()
}

// sendAntiEntropy sends the anti-entropy coordinator's requests. One that
// cannot be sent is handed back to it, which may end its phase and bring
// the next phase's requests, sent in turn.
func (l *loop) sendAntiEntropy(reqs []antientropy.Request) {
	for len(reqs) > 0 {
		r := reqs[0]
		reqs = reqs[1:]
		var err error
		if pr := l.peers.byID[r.Server]; pr != nil {
			err = l.sendFor(pr, r.Msg, &l.mem.ae)
		} else {
			err = fmt.Errorf("server %s is not connected", r.Server)
		}
		if err != nil {
			reqs = append(reqs, l.ae.NotSent(l.now, r.Msg.RequestID, err)...)
		}
	}
}

// aeHost is the loop as the anti-entropy coordinator sees it; the
// coordinator calls it only from the loop's goroutine.
type aeHost struct{ l *loop }

func (h aeHost) IsLeader() bool              { return h.l.ring.leader.IsLeader() }
func (h aeHost) Usable(server string) bool   { return h.l.usable(server) }
func (h aeHost) Writing(list uuid.UUID) bool { return h.l.ops.writing[list] > 0 }
func (h aeHost) NextRequestID() uint64       { return h.l.ops.newRequestID() }
func (h aeHost) BadInput(from string, err error) {
	h.l.bad.report(h.l.log, h.l.now, "backend", []byte(from), err)
}

// Merge merges the owners' states as a pull's answers are merged.
func (h aeHost) Merge(list uuid.UUID, answers []antientropy.Answer) ([]byte, error) {
	as := make([]answer, len(answers))
	for i, a := range answers {
		as[i] = answer{server: a.Server, body: a.State}
	}
	return mergeAnswers(list, as)
}
