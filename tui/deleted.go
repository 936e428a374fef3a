package tui

import (
	"github.com/google/uuid"

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
