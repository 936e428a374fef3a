package removal

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"shoplist/cluster/placement"
	"shoplist/hashring"
)

// leader is a placement.Leader the test sets.
type leader bool

func (l *leader) IsLeader() bool { return bool(*l) }

const deadAfter = time.Minute

func newDecider(l *leader, dead time.Duration) *Decider {
	return New(Config{DeadAfter: dead, RetryAfter: time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, l)
}

// known returns a server lookup over the servers that said hello.
func known(servers map[string]Server) func(string) (Server, bool) {
	return func(id string) (Server, bool) {
		s, ok := servers[id]
		return s, ok
	}
}

func ids(rms []Removal) []string {
	var out []string
	for _, rm := range rms {
		out = append(out, rm.ID)
	}
	slices.Sort(out)
	return out
}

func TestDeadMembersAreRemovedByTheLeaderAfterTheDelay(t *testing.T) {
	var lead leader
	d := newDecider(&lead, deadAfter)
	v := placement.View{Ring: hashring.New([]string{"s1", "s2", "s3"}), Epoch: 3}
	t0 := time.Unix(1000, 0)
	servers := map[string]Server{
		"s1": {Usable: true, LastSeen: t0},
		"s2": {LastSeen: t0.Add(10 * time.Second)}, // down since then
		// s3 never said hello
	}
	if rm := d.Sweep(t0.Add(time.Hour), v, known(servers)); rm != nil {
		t.Fatalf("a follower removed %v", rm)
	}
	lead = true
	if rm := d.Sweep(t0, v, known(servers)); rm != nil {
		t.Fatalf("removed %v the moment the proxy led", rm)
	}
	if rm := d.Sweep(t0.Add(deadAfter-time.Millisecond), v, known(servers)); rm != nil {
		t.Fatalf("removed %v before the delay", rm)
	}
	if rm := d.Sweep(t0.Add(deadAfter), v, known(servers)); !slices.Equal(ids(rm), []string{"s3"}) {
		t.Fatalf("removed %v, want s3, dead since the proxy led", ids(rm))
	}
	if rm := d.Sweep(t0.Add(deadAfter+10*time.Second), v, known(servers)); !slices.Equal(ids(rm), []string{"s2"}) {
		t.Fatalf("removed %v, want s2 alone (s3's removal is in progress)", ids(rm))
	}
	if d.InProgress() != 2 {
		t.Fatalf("%d removals in progress, want 2", d.InProgress())
	}
	// Losing the lead and gaining it again restarts the delay.
	lead = false
	d.Sweep(t0.Add(2*deadAfter), v, known(servers))
	lead = true
	d.Done(t0.Add(2*deadAfter), "s2", fmt.Errorf("%w: s2", placement.ErrNotMember))
	if rm := d.Sweep(t0.Add(2*deadAfter), v, known(servers)); rm != nil {
		t.Fatalf("a new leader removed %v at once", rm)
	}
}

func TestDeadAfterNegativeRemovesNoneOnASweep(t *testing.T) {
	lead := leader(true)
	d := newDecider(&lead, -1)
	v := placement.View{Ring: hashring.New([]string{"s1"}), Epoch: 2, Leaving: []string{"s2"}}
	d.Track(v)
	drained := Server{Report: Report{Epoch: 2, At: time.Unix(1, 0)}}
	if rm := d.Sweep(time.Unix(1e6, 0), v, known(map[string]Server{"s2": drained})); rm != nil {
		t.Fatalf("removed %v", rm)
	}
	if _, ok := d.Reported(time.Unix(1e6, 0), "s2", drained); !ok {
		t.Fatal("a drained server's report did not remove it")
	}
}

func TestALeavingMemberIsRemovedOnceDrained(t *testing.T) {
	var lead leader
	d := newDecider(&lead, deadAfter)
	now := time.Unix(1000, 0)
	d.Track(placement.View{Ring: hashring.New([]string{"s1", "s2"}), Epoch: 5, Leaving: []string{"s4"}})
	report := func(epoch, lists, hints uint64) Server {
		return Server{Usable: true, LastSeen: now, Report: Report{Lists: lists, Hints: hints, Epoch: epoch, At: now}}
	}
	for _, s := range []Server{
		{Usable: true},  // no report yet
		report(4, 0, 0), // drained before it was leaving
		report(5, 2, 0), // still holds lists
		report(5, 0, 1), // still holds a hint
		report(5, 0, 0), // drained, but this proxy does not lead
	} {
		if rm, ok := d.Reported(now, "s4", s); ok {
			t.Fatalf("report %+v removed %v", s.Report, rm)
		}
	}
	if _, ok := d.Reported(now, "s1", report(5, 0, 0)); ok {
		t.Fatal("an active member was removed for an empty report")
	}
	lead = true
	// A sweep removes it on the report that came before this proxy led.
	v := placement.View{Ring: hashring.New([]string{"s1", "s2"}), Epoch: 5, Leaving: []string{"s4"}}
	servers := map[string]Server{"s1": report(5, 3, 0), "s2": report(5, 3, 0), "s4": report(5, 0, 0)}
	if rm := d.Sweep(now, v, known(servers)); !slices.Equal(ids(rm), []string{"s4"}) {
		t.Fatalf("removed %v, want s4", ids(rm))
	}
	// No longer leaving: forgotten.
	if !d.Done(now, "s4", nil) {
		t.Fatal("a successful removal was not reported as one")
	}
	d.Track(placement.View{Ring: hashring.New([]string{"s1", "s2"}), Epoch: 6})
	if _, ok := d.Reported(now, "s4", report(6, 0, 0)); ok {
		t.Fatal("a member no longer leaving was removed")
	}
}

func TestAFailedRemovalIsRetriedAfterTheDelay(t *testing.T) {
	lead := leader(true)
	d := newDecider(&lead, deadAfter)
	v := placement.View{Ring: hashring.New([]string{"s1"}), Epoch: 1}
	t0 := time.Unix(1000, 0)
	d.Sweep(t0, v, known(nil))
	dead := t0.Add(deadAfter)
	if rm := d.Sweep(dead, v, known(nil)); len(rm) != 1 || rm[0].Why != "dead: unusable for 1m0s (dead after 1m0s)" {
		t.Fatalf("removals %+v", rm)
	}
	if d.Done(dead, "s1", errors.New("no quorum")) {
		t.Fatal("a failed removal reported as done")
	}
	if rm := d.Sweep(dead.Add(time.Second-time.Millisecond), v, known(nil)); rm != nil {
		t.Fatalf("retried %v before RetryAfter", rm)
	}
	if rm := d.Sweep(dead.Add(time.Second), v, known(nil)); len(rm) != 1 {
		t.Fatalf("not retried after RetryAfter: %v", rm)
	}
}
