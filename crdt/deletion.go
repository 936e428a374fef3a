package crdt

import "fmt"

// Deleting a list for everyone.
//
// A list carries a deletion register: a last-writer-wins flag, stamped by
// the hybrid logical clock, with the display name of the replica that set
// it. Delete sets it, Restore clears it; of two, the later stamp holds (on
// a tie, a delete wins over a restore). So:
//
//   - a delete hides the list from every replica that merges it, and only
//     an explicit Restore, stamped after it, brings the list back;
//   - edits made concurrently with a delete (by replicas that had not seen
//     it) are merged into the state as usual: nothing is lost, and the
//     deleted list can still be read and exported in full;
//   - a replica refuses new edits of a deleted list (ErrDeleted), since
//     nobody would see them; forgetting the local copy stays a local act.
//
// The register lives in the list's header, beside the name and the floor,
// and travels in the name part (Split) and in deltas.

// deletion is the list's deletion register; the zero value is "never
// deleted or restored".
type deletion struct {
	at      Timestamp
	deleted bool
	by      string // the display name of who set it; "" if none
}

// merge keeps the later of two deletion registers; on a tie, a delete over a
// restore and then the larger name, so that the result is a join even for
// forged states.
func (d *deletion) merge(o deletion) {
	switch c := o.at.Compare(d.at); {
	case c > 0:
		*d = o
	case c < 0:
	case o.deleted != d.deleted:
		if o.deleted {
			*d = o
		}
	case o.by > d.by:
		*d = o
	}
}

// Deletion is what a list's deletion register says.
type Deletion struct {
	Deleted bool      // the list is deleted for everyone
	By      string    // the display name of who deleted (or restored) it; "" if unknown
	At      Timestamp // when; zero if the list was never deleted
}

// Deletion returns the state of the list's deletion register.
func (l *List) Deletion() Deletion {
	return Deletion{Deleted: l.deleted.deleted, By: l.deleted.by, At: l.deleted.at}
}

// Deleted reports whether the list is deleted for everyone.
func (l *List) Deleted() bool { return l.deleted.deleted }

// Delete deletes the list for everyone who shares it, signed with the
// clock's author. Deleting a deleted list is ErrDeleted.
func (l *List) Delete(c *Clock) error {
	if err := l.writable(c); err != nil {
		return err
	}
	l.deleted = deletion{at: l.tick(c), deleted: true, by: c.Author()}
	return nil
}

// Restore undoes a delete, for everyone: the list and every item it held,
// edits made concurrently with the delete included, come back. Restoring a
// list that is not deleted is ErrNotDeleted.
func (l *List) Restore(c *Clock) error {
	if !l.deleted.deleted {
		return fmt.Errorf("%w: %q", ErrNotDeleted, l.name.value)
	}
	l.deleted = deletion{at: l.tick(c), by: c.Author()}
	return nil
}

// writable refuses an edit of a deleted list by the replica of c.
func (l *List) writable(c *Clock) error {
	if !l.deleted.deleted {
		return nil
	}
	who := "a collaborator"
	switch {
	case l.deleted.at.Replica == c.Replica():
		who = "you"
	case l.deleted.by != "":
		who = l.deleted.by
	}
	return fmt.Errorf("%w: %q was deleted by %s", ErrDeleted, l.name.value, who)
}

// HeadEmpty reports whether the list holds nothing outside its items: no
// name, floor or deletion. A split's first part that is empty need not be
// stored or sent.
func (l *List) HeadEmpty() bool {
	return l.name.value == "" && l.floor.IsZero() && l.deleted.at.IsZero()
}

// deletion reads the deletion register (codec.go: [at ts, deleted bool,
// by str]).
func (d *decoder) deletion() deletion {
	d.arrayLen("deletion", deletionFields, deletionFields)
	del := deletion{at: d.stamp("deletion stamp")}
	if d.err == nil {
		var err error
		if del.deleted, err = d.dec.DecodeBool(); err != nil {
			d.fail("deletion flag: %v", err)
		}
	}
	del.by = d.str("deletion author", MaxAuthorBytes)
	switch {
	case d.err != nil:
	case del.at.IsZero():
		d.fail("deletion without a stamp")
	case TrimName(del.by) != del.by:
		d.fail("deletion author %q is not trimmed", del.by)
	}
	return del
}

// encode writes the deletion register.
func (w *encoder) deletion(d deletion) {
	_ = w.e.EncodeArrayLen(deletionFields)
	w.stamp(d.at)
	_ = w.e.EncodeBool(d.deleted)
	_ = w.e.EncodeString(d.by)
}
