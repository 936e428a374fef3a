package cli

import (
	"fmt"
	"time"

	"shoplist/crdt"
	"shoplist/tui"
)

// cmdDelete deletes a list for everyone who shares it. Unlike forget it
// reaches every collaborator, so, as forget does for unpushed changes, it
// asks for --force and otherwise only says what it would do.
func (e *env) cmdDelete(args []string) error {
	if err := arity("delete", args, 1, 1, "LIST --force"); err != nil {
		return err
	}
	id, err := e.store.Resolve(args[0])
	if err != nil {
		return describe(err, "")
	}
	en, err := e.store.Get(id)
	if err != nil {
		return describe(err, "")
	}
	name := en.List.Name()
	if en.List.Deleted() {
		return fmt.Errorf("%q is already %s; `client forget %s` removes your copy", name, tui.DeletedBy(en.List.Deletion(), e.store.ReplicaID()), id)
	}
	if !e.flags["force"] {
		return fmt.Errorf("deleting %q hides it for everyone who shares it (they can still show or export it); run `client delete %s --force` to delete it, `client restore %s` undoes it", name, id, id)
	}
	if err := e.edit(id.String(), func(l *crdt.List, c *crdt.Clock) error { return l.Delete(c) }); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "deleted %q for everyone; `client restore %s` undoes it\n", name, id)
	return nil
}

// cmdRestore undoes a delete, for everyone.
func (e *env) cmdRestore(args []string) error {
	if err := arity("restore", args, 1, 1, "LIST"); err != nil {
		return err
	}
	return e.edit(args[0], func(l *crdt.List, c *crdt.Clock) error { return l.Restore(c) })
}

// jsonDeletion is what lists --json and show --json say of a deleted list.
type jsonDeletion struct {
	Deleted   bool   `json:"deleted"`    // deleted for everyone
	DeletedBy string `json:"deleted_by"` // the display name of who deleted it; "" if not deleted or unknown
	DeletedAt string `json:"deleted_at"` // RFC 3339; "" if not deleted
}

func deletionOf(l *crdt.List) jsonDeletion {
	d := l.Deletion()
	if !d.Deleted {
		return jsonDeletion{}
	}
	return jsonDeletion{Deleted: true, DeletedBy: d.By, DeletedAt: d.At.Time().UTC().Format(time.RFC3339)}
}
