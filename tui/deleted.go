package tui

import (
	tea "github.com/charmbracelet/bubbletea"
	"github.com/google/uuid"

	"shoplist/client/replica"
	"shoplist/crdt"
)

// DeletedBy says who deleted a list, from the point of view of replica
// self: "deleted by Bob", "deleted by you", or "deleted by a collaborator"
// when the one who deleted it had no name. It is "" if the list is not
// deleted.
func DeletedBy(d crdt.Deletion, self uuid.UUID) string {
	switch {
	case !d.Deleted:
		return ""
	case d.At.Replica == self:
		return "deleted by you"
	case d.By == "":
		return "deleted by a collaborator"
	}
	return "deleted by " + d.By
}

// deletedBy is DeletedBy for this device.
func (s *shared) deletedBy(l *crdt.List) string { return DeletedBy(l.Deletion(), s.store.ReplicaID()) }

// deleteConfirm asks before deleting list e for everyone, or, when it is
// deleted, before restoring it: both reach every collaborator.
func (s *shared) deleteConfirm(e replica.Entry) *confirm {
	id, name := e.List.ID(), e.List.Name()
	if e.List.Deleted() {
		return &confirm{title: "Restore “" + name + "” for everyone?", lines: []string{
			"It was " + s.deletedBy(e.List) + ". Restoring brings it back, with every item,",
			"for everyone who still has it.",
		}, yes: func() tea.Cmd {
			return s.io(editOp(s.store, s.eng, id, editReq{done: "restored “" + name + "” for everyone", what: "restored “" + name + "”",
				fn: func(l *crdt.List, c *crdt.Clock) error { return l.Restore(c) }}))
		}}
	}
	return &confirm{title: "Delete “" + name + "” for everyone?", lines: []string{
		"Everyone who shares it will see it as deleted. They can still open and",
		"export it before they forget it (d); D restores it for everyone.",
	}, yes: func() tea.Cmd {
		return s.io(editOp(s.store, s.eng, id, editReq{done: "deleted “" + name + "” for everyone (D restores it)", what: "deleted “" + name + "”",
			fn: func(l *crdt.List, c *crdt.Clock) error { return l.Delete(c) }}))
	}}
}
