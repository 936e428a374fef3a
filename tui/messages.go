package tui

import (
	"github.com/google/uuid"

	"shoplist/client/replica"
	"shoplist/client/syncer"
)

// The messages below carry the results of commands back to Update. Results
// of store operations arrive wrapped in ioDoneMsg (see ioQueue).

// listsLoadedMsg is the result of reading every local list.
type listsLoadedMsg struct {
	entries []replica.Entry
	err     error
}

// listLoadedMsg is the result of reading one list.
type listLoadedMsg struct {
	id    uuid.UUID
	entry replica.Entry
	err   error
}

// editedMsg is the result of a local edit of a list.
type editedMsg struct {
	id     uuid.UUID
	entry  replica.Entry
	keys   []string // the keys the edit changed ("" = the name)
	err    error
	done   string    // notice to show on success
	toggle bool      // a check / uncheck: the cursor keeps its row, not its item
	undo   bool      // the edit was an undo
	step   *undoStep // what undoes the edit; nil if it changed nothing or was an undo
}

// createdMsg is the result of creating a list.
type createdMsg struct {
	entry replica.Entry
	err   error
}

// forgottenMsg is the result of forgetting a list.
type forgottenMsg struct {
	id   uuid.UUID
	name string
	err  error
}

// joinedMsg is the result of joining a list by its ID.
type joinedMsg struct {
	id  uuid.UUID
	err error
}

// engineEventMsg is one event from the sync engine.
type engineEventMsg struct{ ev syncer.Event }

// engineClosedMsg says the engine closed its event channel.
type engineClosedMsg struct{}

// statusMsg is a fresh sync status.
type statusMsg struct{ status syncer.Status }

// pollMsg asks for the next poll of the store generation and engine status.
type pollMsg struct{}

// polledMsg is the result of a poll.
type polledMsg struct {
	gen    uint64
	err    error
	status syncer.Status
}

// highlightDoneMsg ends the highlight of the rows tagged seq on a screen.
type highlightDoneMsg struct {
	screen screen
	seq    int
}

// noticeDoneMsg clears the notice tagged seq.
type noticeDoneMsg struct{ seq int }

// The messages below are what a screen asks of the root model, which owns
// the screens, the dialog and the notice line. A screen's key handler
// returns its request next to its command and the root handles it at once,
// before the next key: after a key that leaves the screen or opens a dialog,
// every later key goes to the new screen or the dialog. A dialog's request
// comes back as the result of a command.

// openListMsg asks for the list screen of list id.
type openListMsg struct{ id uuid.UUID }

// backMsg asks for the lists screen.
type backMsg struct{}

// openDialogMsg asks for dialog to be shown; it takes every key until closed.
type openDialogMsg struct{ dialog dialog }

// joinMsg asks to join the shared list id.
type joinMsg struct{ id uuid.UUID }

// failMsg asks for err to be shown under the screen.
type failMsg struct{ err error }
