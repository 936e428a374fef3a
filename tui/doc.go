// Package tui is the terminal user interface of the shoplist client.
//
// It is a Bubble Tea (v1) program with bubbles and lipgloss. The root model
// (model.go, drawn by view.go) owns the terminal size, the open dialog and
// the notice line, and routes messages to one sub-model per screen: the
// lists screen (lists.go) and the list screen (list.go; its view in
// listview.go, grouped by category in the order of order.go; its dialogs
// in listprompts.go). Dialogs (dialog.go) are small boxes above the status
// bar that take every key while open. Edits made on the list screen are
// undone with u (undo.go): each edit's result carries the parts it changed
// as they were, and undoing is a new edit that sets them back.
//
// Screens read what they share (the replica store, the sync engine, the
// sync status) and queue their own store operations, but never switch
// screens themselves: a screen's key handler returns, next to its command,
// a message asking the root to open a list, go back, open a dialog or show
// an error (messages.go), and the root's Update handles it before the next
// key, so that key goes to the new screen or dialog. A dialog asks the same
// way through a command, as the join prompt does with joinMsg.
//
// Nothing in Update or View does I/O. Store reads and edits run in commands
// through a queue that runs one at a time and in order (commands.go), so a
// slow disk or a held lock never freezes the screen and an older read never
// overwrites a newer one. Joins wait on the network in their own command.
// Engine events arrive through a command that waits on the event channel,
// and a tick polls Store.Generation to notice edits by other processes on
// the same data directory; both reload what is on screen, and rows that
// changed under the user are highlighted for a moment, a collaborator's
// edit with what they did and their name (authors.go). Deleting a list for
// everyone and restoring it (D) ask first (deleted.go); @ sets the name
// the user signs edits with (name.go). Only Bubble Tea
// writes to the terminal: the share dialog's clipboard copy (OSC 52) is
// part of its frame.
//
// A message under the screen is about the last action: it goes when it
// expires, when a later action succeeds, and when the user moves to
// another screen, a dialog or the filter. The connection state has one
// source (connection in status.go) for the status bar and the badges.
package tui
