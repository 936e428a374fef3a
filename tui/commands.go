package tui

import (
	"context"
	"encoding/base64"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/google/uuid"

	"shoplist/client/replica"
	"shoplist/client/syncer"
	"shoplist/crdt"
)

// Timings of the UI.
const (
	pollInterval      = 500 * time.Millisecond // Store.Generation and engine status
	highlightDuration = 1500 * time.Millisecond
	noticeDuration    = 5 * time.Second
	errorDuration     = 10 * time.Second
	joinTimeout       = 15 * time.Second
)

// ioOp is one store operation run by an ioQueue.
type ioOp struct {
	key string // ops with the same non-empty key coalesce while queued
	run func() tea.Msg
}

// ioDoneMsg carries the result of an ioOp.
type ioDoneMsg struct{ msg tea.Msg }

// ioQueue runs store operations one at a time, in the order they were asked
// for, each in a command: the UI never waits for the store, and results come
// back in order, so a read started after an edit always sees it and an older
// read never overwrites a newer one on screen. It lives in the Update
// goroutine and needs no lock.
type ioQueue struct {
	ops  []ioOp // waiting, oldest first
	busy bool   // an op's command is running
}

// push queues op and returns the command to run it if the queue was idle.
func (q *ioQueue) push(op ioOp) tea.Cmd {
	if op.key != "" {
		for _, o := range q.ops {
			if o.key == op.key {
				return nil
			}
		}
	}
	q.ops = append(q.ops, op)
	if q.busy {
		return nil
	}
	return q.next()
}

// dropReads forgets the queued reads (ops with a key), keeping the writes,
// and reports whether anything is still running or queued.
func (q *ioQueue) dropReads() bool {
	kept := q.ops[:0]
	for _, op := range q.ops {
		if op.key == "" {
			kept = append(kept, op)
		}
	}
	q.ops = kept
	return q.busy || len(q.ops) > 0
}

// done records that the running op finished and returns the next one's command.
func (q *ioQueue) done() tea.Cmd {
	q.busy = false
	return q.next()
}

func (q *ioQueue) next() tea.Cmd {
	if len(q.ops) == 0 {
		return nil
	}
	op := q.ops[0]
	q.ops = q.ops[1:]
	q.busy = true
	return func() tea.Msg { return ioDoneMsg{op.run()} }
}

// loadListsOp reads every local list.
func loadListsOp(store *replica.Store) ioOp {
	return ioOp{key: "lists", run: func() tea.Msg {
		entries, err := store.All()
		return listsLoadedMsg{entries: entries, err: err}
	}}
}

// loadListOp reads one list.
func loadListOp(store *replica.Store, id uuid.UUID) ioOp {
	return ioOp{key: "list " + id.String(), run: func() tea.Msg {
		e, err := store.Get(id)
		return listLoadedMsg{id: id, entry: e, err: err}
	}}
}

// editOp applies fn to list id durably, then asks the engine to push it.
// Unless the edit is itself an undo, its result carries the step that
// undoes it, described by what.
func editOp(store *replica.Store, eng Engine, id uuid.UUID, r editReq) ioOp {
	return ioOp{run: func() tea.Msg {
		var before *crdt.List
		e, keys, err := store.Edit(id, func(l *crdt.List, c *crdt.Clock) error {
			if !r.undo {
				before = l.Clone()
			}
			return r.fn(l, c)
		})
		if err == nil {
			eng.Kick(id)
		}
		msg := editedMsg{id: id, entry: e, keys: keys, err: err, done: r.done, toggle: r.toggle, undo: r.undo}
		if err == nil {
			msg.step = stepOf(r.what, before, e.List, keys)
		}
		return msg
	}}
}

// editReq is an edit the list screen asks for.
type editReq struct {
	fn     func(l *crdt.List, c *crdt.Clock) error
	done   string // the notice on success; "" for none
	what   string // the edit in words, for undo's notice ("" = done)
	toggle bool   // a check / uncheck: the cursor keeps its row
	undo   bool   // an undo: it is not itself undone
}

// createOp creates a list named name and asks the engine to push it.
func createOp(store *replica.Store, eng Engine, name string) ioOp {
	return ioOp{run: func() tea.Msg {
		e, err := store.Create(name)
		if err == nil {
			eng.Kick(e.List.ID())
		}
		return createdMsg{entry: e, err: err}
	}}
}

// forgetOp deletes the local copy of a list.
func forgetOp(store *replica.Store, id uuid.UUID, name string, force bool) ioOp {
	return ioOp{run: func() tea.Msg {
		return forgottenMsg{id: id, name: name, err: store.Forget(id, force)}
	}}
}

// joinCmd asks the engine to fetch a shared list. It runs outside the
// ioQueue: it waits on the network, and edits must not wait behind it.
func joinCmd(ctx context.Context, eng Engine, id uuid.UUID) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, joinTimeout)
		defer cancel()
		return joinedMsg{id: id, err: eng.Join(ctx, id)}
	}
}

// waitEventCmd turns the next engine event into a message. Update starts it
// again after each event, so exactly one waits at a time.
func waitEventCmd(ctx context.Context, ch <-chan syncer.Event) tea.Cmd {
	return func() tea.Msg {
		select {
		case ev, ok := <-ch:
			if !ok {
				return engineClosedMsg{}
			}
			return engineEventMsg{ev}
		case <-ctx.Done():
			return nil
		}
	}
}

// statusCmd reads the engine status.
func statusCmd(eng Engine) tea.Cmd {
	return func() tea.Msg { return statusMsg{eng.Status()} }
}

// pollCmd reads the store generation and the engine status: the generation
// changes when another process (the command line) writes to the data dir.
func pollCmd(store *replica.Store, eng Engine) tea.Cmd {
	return func() tea.Msg {
		gen, err := store.Generation()
		return polledMsg{gen: gen, err: err, status: eng.Status()}
	}
}

// pollTick schedules the next poll after d.
func pollTick(d time.Duration) tea.Cmd {
	return tea.Tick(d, func(time.Time) tea.Msg { return pollMsg{} })
}

// osc52 returns the escape sequence that sets the clipboard to text.
func osc52(text string, tmux bool) string {
	seq := "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte(text)) + "\x07"
	if tmux {
		seq = "\x1bPtmux;" + strings.ReplaceAll(seq, "\x1b", "\x1b\x1b") + "\x1b\\"
	}
	return seq
}
