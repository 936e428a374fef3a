package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"shoplist/client/syncer"
	"shoplist/tui"
)

// oneShotHeartbeat is the Hello interval of a command's engine: a proxy
// silent for three of them is given up for the next endpoint, so with a dead
// first endpoint a command still fails over within its two seconds.
const oneShotHeartbeat = 250 * time.Millisecond

// startEngine starts a sync engine on the command's replica; heartbeat 0
// is the engine's default.
func (e *env) startEngine(ctx context.Context, heartbeat time.Duration) (*syncer.Engine, error) {
	eng, err := syncer.Start(ctx, syncer.Config{
		Store:     e.store,
		Endpoints: e.opts.endpoints,
		Key:       e.key,
		Offline:   e.opts.offline,
		Logger:    e.log,
		Heartbeat: heartbeat,
	})
	if err != nil {
		return nil, fmt.Errorf("starting sync: %w", err)
	}
	return eng, nil
}

// connectWithin is how long a command waits for any proxy to welcome it
// before it reports the cluster unreachable, however long it would wait
// for the sync itself.
const connectWithin = 3 * time.Second

// syncLists pushes and pulls the given lists (every local list if none)
// and waits until they are in sync or ctx ends.
func (e *env) syncLists(ctx context.Context, ids ...uuid.UUID) error {
	eng, ctx, cancel, err := e.connect(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	defer eng.Close()
	eng.Kick(ids...)
	return withCause(ctx, eng.WaitSynced(ctx, ids...))
}

// withCause returns why ctx was cancelled (no proxy answered in time)
// instead of err, when that is what ended the wait.
func withCause(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if cause := context.Cause(ctx); cause != nil && errors.Is(cause, syncer.ErrOffline) {
		return cause
	}
	return err
}

// connect starts a one-shot engine and returns it with a context that is
// cancelled (and a cause of ErrOffline) if no proxy welcomes the engine
// within connectWithin. Call cancel, then Close.
func (e *env) connect(ctx context.Context) (*syncer.Engine, context.Context, context.CancelFunc, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	eng, err := e.startEngine(ctx, oneShotHeartbeat)
	if err != nil {
		cancel(err)
		return nil, nil, nil, err
	}
	go func() {
		timer := time.NewTimer(connectWithin)
		defer timer.Stop()
		deadline := timer.C
		for {
			select {
			case <-ctx.Done():
				return
			case <-deadline:
				cancel(fmt.Errorf("%w: no proxy at %s answered within %v", syncer.ErrOffline, e.proxies(), connectWithin))
				return
			case ev, ok := <-eng.Events():
				if !ok {
					return
				}
				if ev.Kind == syncer.StatusChanged && eng.Status().Conn == syncer.Online {
					deadline = nil // connected: the caller's own deadline applies from now on
				}
				if len(ev.Dropped) > 0 {
					e.noteDropped(ev.List, ev.Dropped)
				}
			}
		}
	}()
	return eng, ctx, func() { cancel(nil) }, nil
}

// proxies names the proxies the client tries, for messages: their
// addresses, without the keys.
func (e *env) proxies() string {
	addrs := make([]string, len(e.opts.endpoints))
	for i, ep := range e.opts.endpoints {
		addrs[i], _, _ = strings.Cut(ep, "#")
	}
	return strings.Join(addrs, ", ")
}

// join fetches list id from the cluster into the replica.
func (e *env) join(ctx context.Context, id uuid.UUID) error {
	eng, ctx, cancel, err := e.connect(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	defer eng.Close()
	switch err := withCause(ctx, eng.Join(ctx, id)); {
	case errors.Is(err, syncer.ErrNotFound):
		return fmt.Errorf("the cluster has no list %s (check the ID; lists are shared by their full ID)", id)
	case errors.Is(err, syncer.ErrOffline):
		return fmt.Errorf("cannot reach the cluster at %s to join %s; try again when online", e.proxies(), id)
	case err != nil:
		return fmt.Errorf("joining %s: %w", id, err)
	}
	return nil
}

// runTUI opens the terminal UI with a sync engine running behind it.
func (e *env) runTUI() error {
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	eng, err := e.startEngine(ctx, 0)
	if err != nil {
		return err
	}
	defer eng.Close()
	proxy := ""
	if len(e.opts.endpoints) > 0 {
		proxy = e.opts.endpoints[0]
	}
	saveName := func(name string) (string, error) { return rememberName(e.opts.data, name) }
	return tui.Run(ctx, e.store, eng, tui.Options{Proxy: proxy, Offline: e.opts.offline, NoProxy: e.opts.noProxy, SaveName: saveName})
}

// noteDropped records items a pull dropped because the cluster had forgotten
// them, for Main to tell the user once the command is done.
func (e *env) noteDropped(list uuid.UUID, items []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.dropped = append(e.dropped, droppedItems{list, items})
}

// tellDropped prints what noteDropped recorded.
func (e *env) tellDropped() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, d := range e.dropped {
		quoted := make([]string, len(d.items))
		for i, it := range d.items {
			quoted[i] = fmt.Sprintf("%q", it)
		}
		fmt.Fprintf(e.stderr, "client: list %s: dropped or reset %s: this device was away longer than the cluster remembers removes, and the cluster had forgotten them\n",
			d.list, strings.Join(quoted, ", "))
	}
}

// droppedItems is one ListChanged event's Dropped.
type droppedItems struct {
	list  uuid.UUID
	items []string
}
