package crdt

import (
	"fmt"
	"unicode/utf8"
)

// Authorship: who made an item's latest edit.
//
// A replica may have a display name (its author, kept by its Clock). Every
// edit of an item made by a replica with a name stamps the item's author
// register with that name and the edit's stamp, so the register says who
// made the item's latest edit as the list knows it. The register is a
// last-writer-wins register like the others, so Merge stays a join.
//
// A replica without a name writes the register only when it already holds
// one (with an empty name, so that "by Bob" does not stick to an edit Bob
// did not make); lists whose replicas never had names carry no register and
// encode exactly as before. A replica that edits concurrently with a named
// one, without a register of its own, leaves the other's in place: so the
// register is the latest named edit, and ItemView.By names the author only
// when the register is stamped with the item's latest edit.
//
// Compaction never forgets the register (a name is not a tombstone), and it
// goes with its item when the item is forgotten.

// MaxAuthorBytes is the longest author name, in bytes of UTF-8: a display
// name shown next to an item ("bought by …"), not a description.
const MaxAuthorBytes = 32

// CheckAuthor trims a replica's display name and checks that it is
// non-empty, valid UTF-8, free of control characters and at most
// MaxAuthorBytes long; it returns the name as the list keeps it.
func CheckAuthor(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("%w: not valid UTF-8", ErrInvalidName)
	}
	name = TrimName(name)
	switch {
	case name == "":
		return "", fmt.Errorf("%w: empty", ErrInvalidName)
	case hasControl(name):
		return "", fmt.Errorf("%w: contains a control character", ErrInvalidName)
	case len(name) > MaxAuthorBytes:
		return "", fmt.Errorf("%w: %d bytes long, at most %d allowed", ErrInvalidName, len(name), MaxAuthorBytes)
	}
	return name, nil
}

// SetAuthor sets the display name the clock's replica signs its edits
// with; "" signs none. The name is checked with CheckAuthor.
func (c *Clock) SetAuthor(name string) error {
	if name != "" {
		var err error
		if name, err = CheckAuthor(name); err != nil {
			return err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.author = name
	return nil
}

// Author returns the display name the clock's replica signs its edits
// with; "" if none.
func (c *Clock) Author() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.author
}

// sign stamps the item's author register for an edit stamped ts by the
// replica of c (see the rules above).
func (it *item) sign(c *Clock, ts Timestamp) {
	if name := c.Author(); name != "" || !it.author.at.IsZero() {
		it.author = register{value: name, at: ts}
	}
}

// By returns the name of the author of the item's latest edit, or "" when
// it is not known (the replica that made it had no name, or the latest edit
// was made without a name next to a named one).
func (v ItemView) By() string {
	if v.AuthorAt != v.Modified {
		return ""
	}
	return v.Author
}
