package proxy

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"shoplist/cluster/placement"
	"shoplist/hashring"
)

// groupMembership is a Membership of a proxy group played by a test: it
// has leaving members, a leader flag the test sets, and records removals.
// Changes are decided at once.
type groupMembership struct {
	ch     chan struct{}
	leader atomic.Bool
	asked  atomic.Int64 // IsLeader calls

	// mu guards the fields below, which Join, Leave and Remove change
	// from the proxy's goroutines while the test reads them.
	mu       sync.Mutex
	view     placement.View
	removals []removeCall
}

// removeCall is one Remove call the membership accepted.
type removeCall struct {
	id string
	at time.Time
}

func newGroupMembership(proxies ...string) *groupMembership {
	return &groupMembership{
		ch:   make(chan struct{}, 1),
		view: placement.View{Ring: hashring.New(nil), Proxies: proxies},
	}
}

func (g *groupMembership) View() placement.View {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.view
}

func (g *groupMembership) Changes() <-chan struct{} { return g.ch }

func (g *groupMembership) IsLeader() bool {
	g.asked.Add(1)
	return g.leader.Load()
}

// change edits the view under mu and signals Changes.
func (g *groupMembership) change(edit func(v *placement.View) error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	v := g.view
	v.Leaving = slices.Clone(v.Leaving)
	if err := edit(&v); err != nil {
		return err
	}
	v.Epoch++
	g.view = v
	select {
	case g.ch <- struct{}{}:
	default:
	}
	return nil
}

// Admit admits server id with key, without changing the epoch.
func (g *groupMembership) Admit(_ context.Context, id, key string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	byID := map[string]string{}
	for _, other := range g.view.Admitted.IDs() {
		byID[other], _ = g.view.Admitted.Key(other)
	}
	byID[id] = key
	g.view.Admitted = placement.NewAdmission(byID)
	select {
	case g.ch <- struct{}{}:
	default:
	}
	return nil
}

func (g *groupMembership) Join(_ context.Context, id string) error {
	if g.View().Has(id) {
		return nil
	}
	return g.change(func(v *placement.View) error { v.Ring = v.Ring.With(id); return nil })
}

func (g *groupMembership) Leave(_ context.Context, id string) error {
	return g.change(func(v *placement.View) error {
		if !v.Active(id) {
			return fmt.Errorf("%w: %s", placement.ErrNotMember, id)
		}
		v.Ring = v.Ring.Without(id)
		v.Leaving = append(v.Leaving, id)
		slices.Sort(v.Leaving)
		return nil
	})
}

func (g *groupMembership) Remove(_ context.Context, id string) error {
	return g.change(func(v *placement.View) error {
		if !v.Has(id) {
			return fmt.Errorf("%w: %s", placement.ErrNotMember, id)
		}
		v.Ring = v.Ring.Without(id)
		v.Leaving = slices.DeleteFunc(v.Leaving, func(s string) bool { return s == id })
		g.removals = append(g.removals, removeCall{id, time.Now()})
		return nil
	})
}

// removed returns the removals so far.
func (g *groupMembership) removed() []removeCall {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.removals)
}

// startGroupProxy starts a proxy on a groupMembership; edit adjusts its
// Config further.
func startGroupProxy(t *testing.T, g *groupMembership, edit func(*Config)) *Proxy {
	t.Helper()
	return startProxy(t, func(c *Config) {
		c.Membership = g
		if edit != nil {
			edit(c)
		}
	})
}

// loopState runs fn in the proxy's loop, for assertions on its state.
func loopState(t *testing.T, p *Proxy, fn func(l *loop)) {
	t.Helper()
	if err := p.do(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// statusOf returns the proxy's Status, failing the test on error.
func statusOf(t *testing.T, p *Proxy) Status {
	t.Helper()
	st, err := p.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// serverStatus returns one server's entry of a Status.
func serverStatus(t *testing.T, st Status, id string) ServerStatus {
	t.Helper()
	for _, s := range st.Servers {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("server %s not in the status %+v", id, st.Servers)
	return ServerStatus{}
}

// newTextLogger returns a logger writing text to w, for tests that read
// the log.
func newTextLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
