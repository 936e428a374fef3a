package syncer

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/google/uuid"

	"shoplist/internal/doorbell"
	"shoplist/protocol"
)

// Engine is a running sync engine. Its methods are safe for concurrent use;
// none touches a socket (see the package doc).
type Engine struct {
	cfg    Config
	cmds   chan command
	bell   *doorbell.Doorbell
	events *eventQueue
	cancel context.CancelFunc
	done   chan struct{} // closed when every goroutine of the engine has returned
	wg     sync.WaitGroup
	err    error // the loop's exit error; read after done

	statusMu sync.Mutex // guards status and lastErr, written by the loop
	status   Status
	lastErr  error // the error behind status.LastErr, for WaitSynced
}

// command is work the loop runs on behalf of another goroutine.
type command func(*loop)

// Start starts the engine, which runs until ctx is cancelled or Close is
// called. Unless cfg.Offline it connects to the first endpoint at once.
func Start(ctx context.Context, cfg Config) (*Engine, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	bell, err := doorbell.New("syncer")
	if err != nil {
		return nil, fmt.Errorf("syncer: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	e := &Engine{
		cfg:    cfg,
		cmds:   make(chan command, 64),
		bell:   bell,
		events: newEventQueue(),
		cancel: cancel,
		done:   make(chan struct{}),
	}
	l := newLoop(e)
	e.status = l.status()
	e.wg.Add(3)
	go func() {
		defer e.wg.Done()
		bell.Run(ctx, nil)
	}()
	go func() {
		defer e.wg.Done()
		defer cancel() // the loop failing stops the others too
		e.err = l.run(ctx)
	}()
	go func() {
		defer e.wg.Done()
		e.events.run(ctx)
	}()
	go func() {
		e.wg.Wait()
		close(e.done)
	}()
	return e, nil
}

// Close stops the engine and waits for its goroutines. Edits not yet
// pushed stay in the replica for next time. The channel Events returns is
// closed.
func (e *Engine) Close() error {
	e.cancel()
	<-e.done
	return e.err
}

// Status returns the engine's current state.
func (e *Engine) Status() Status {
	e.statusMu.Lock()
	defer e.statusMu.Unlock()
	return e.status
}

// Events returns the engine's events. The channel is buffered; a reader
// that falls far behind loses ListChanged detail but never the fact that
// something changed (it gets ListsChanged and StatusChanged instead). It is
// closed when the engine stops.
func (e *Engine) Events() <-chan Event { return e.events.out }

// Kick tells the engine that these lists were edited locally (or created):
// push them, and subscribe to any it did not know, now rather than at the
// next Generation poll; with no IDs it rereads every list. If the engine is
// waiting to reconnect, it tries now. It never blocks on the network.
func (e *Engine) Kick(ids ...uuid.UUID) {
	ids = append([]uuid.UUID(nil), ids...)
	e.post(context.Background(), func(l *loop) { l.kick(ids) })
}

// Join pulls the list from the cluster and stores it locally (it is merged
// if already local), then keeps it in sync. ErrNotFound when the cluster
// answers that it does not know the list (or id is not a list ID); ErrOffline (wrapping ctx's error)
// when it cannot be reached, or does not answer, before ctx ends; an error
// reply of the cluster otherwise.
func (e *Engine) Join(ctx context.Context, id uuid.UUID) error {
	if err := protocol.CheckListID(id); err != nil { // no list has such an ID
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	if e.cfg.Offline {
		return fmt.Errorf("%w: offline mode", ErrOffline)
	}
	j := &joinReq{id: id, ctx: ctx, result: make(chan error, 1)}
	if err := e.post(ctx, func(l *loop) { l.joins = append(l.joins, j) }); err != nil {
		return e.ctxErr(ctx, err)
	}
	select {
	case err := <-j.result:
		return err
	case <-ctx.Done():
		return e.ctxErr(ctx, ctx.Err())
	case <-e.done:
		return ErrClosed
	}
}

// WaitSynced waits until every given list (all local lists if none) has no
// unpushed parts and has been pulled successfully after the call began. It
// returns nil; or, when ctx ends first, ctx's error wrapped with ErrOffline
// (not connected) or with the last sync error. An unknown list is
// replica.ErrNotFound. In offline mode it fails at once with ErrOffline.
func (e *Engine) WaitSynced(ctx context.Context, ids ...uuid.UUID) error {
	if e.cfg.Offline {
		return fmt.Errorf("%w: offline mode", ErrOffline)
	}
	w := &waiter{ids: append([]uuid.UUID(nil), ids...), ctx: ctx, result: make(chan error, 1)}
	if err := e.post(ctx, func(l *loop) { l.addWaiter(w) }); err != nil {
		return e.ctxErr(ctx, err)
	}
	select {
	case err := <-w.result:
		return err
	case <-ctx.Done():
		return e.ctxErr(ctx, ctx.Err())
	case <-e.done:
		return ErrClosed
	}
}

// ctxErr explains why a wait that ended with err (ctx's error or ErrClosed)
// got nowhere: the cluster is unreachable, or the last sync error.
func (e *Engine) ctxErr(ctx context.Context, err error) error {
	if errors.Is(err, ErrClosed) {
		return err
	}
	e.statusMu.Lock()
	st, last := e.status, e.lastErr
	e.statusMu.Unlock()
	switch {
	case st.Conn != Online && st.LastErr != "":
		return fmt.Errorf("%w (%s): %w", ErrOffline, st.LastErr, err)
	case st.Conn != Online:
		return fmt.Errorf("%w: %w", ErrOffline, err)
	case last != nil:
		return fmt.Errorf("%w: %w", last, err)
	}
	return fmt.Errorf("syncer: cluster slow to answer: %w", err)
}

// post queues cmd for the loop and rings the doorbell. It fails with
// ErrClosed once the engine has stopped, or with ctx's error.
func (e *Engine) post(ctx context.Context, cmd command) error {
	select {
	case e.cmds <- cmd:
		e.bell.Ring()
		return nil
	case <-e.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// publish records the loop's status and last error; it reports whether the
// status changed.
func (e *Engine) publish(st Status, last error) bool {
	e.statusMu.Lock()
	defer e.statusMu.Unlock()
	changed := st != e.status
	e.status, e.lastErr = st, last
	return changed
}
