package crdt

import (
	"fmt"
	"maps"
	"slices"

	"github.com/google/uuid"
)

// register is a last-writer-wins string.
type register struct {
	value string
	at    Timestamp
}

func (r *register) merge(o register) {
	if c := o.at.Compare(r.at); c > 0 || (c == 0 && o.value > r.value) {
		*r = o
	}
}

// List is one replica's state of a shopping list. The zero List is not
// usable; make one with [New], [Empty] or [Decode]. A List is not safe for
// concurrent use: its owner serialises edits and merges.
type List struct {
	id       uuid.UUID
	name     register
	deleted  deletion         // deleted for everyone (deletion.go)
	items    map[string]*item // by key
	floor    Timestamp        // removed items dead at or before it are forgotten (compact.go)
	max      Timestamp        // newest stamp anywhere in the list, the floor included
	npresent int              // items present, kept up to date by every change
}

// ItemView is the read-only view of a present item. Bought may exceed
// Wanted when people bought concurrently: it then shows as over-bought
// (Remaining stays 0).
type ItemView struct {
	Key       string // normalised name
	Name      string // displayed name
	Category  string // "" if none
	Note      string // "" if none
	Wanted    int64
	Bought    int64
	Remaining int64 // max(0, Wanted - Bought)
	Acquired  bool  // Remaining == 0
	Modified  Timestamp
	Author    string    // who made the latest edit signed with a name (author.go); see By
	AuthorAt  Timestamp // the stamp of that edit; zero if none
}

// New creates a list with a fresh random (v4) ID, stamped by c.
func New(c *Clock, name string) (*List, error) {
	l := Empty(uuid.New())
	if err := l.Rename(c, name); err != nil {
		return nil, err
	}
	return l, nil
}

// Empty returns a list with the given ID and no state: the bottom element
// that any state of that list merges into.
func Empty(id uuid.UUID) *List { return &List{id: id, items: map[string]*item{}} }

// ID returns the list's ID.
func (l *List) ID() uuid.UUID { return l.id }

// Name returns the list's name.
func (l *List) Name() string { return l.name.value }

// MaxStamp returns the newest stamp in the list; a replica's clock should
// observe it (edits do so themselves).
func (l *List) MaxStamp() Timestamp { return l.max }

// Len returns the number of items in the state, removed ones included.
func (l *List) Len() int { return len(l.items) }

// Present returns the number of present items.
func (l *List) Present() int { return l.npresent }

// countPresent counts the present items, for a list built without its
// changes (decoded, or cut out of another).
func (l *List) countPresent() int {
	n := 0
	for _, it := range l.items {
		if it.present() {
			n++
		}
	}
	return n
}

// tick returns a fresh stamp after everything in the list.
func (l *List) tick(c *Clock) Timestamp {
	c.Observe(l.max)
	t := c.Now()
	l.max = t
	return t
}

// Rename sets the list's name.
func (l *List) Rename(c *Clock, name string) error {
	name, err := checkName(name)
	if err != nil {
		return err
	}
	if err := l.writable(c); err != nil {
		return err
	}
	l.name = register{value: name, at: l.tick(c)}
	return nil
}

// Add adds qty of the named item. If the item is present its wanted count
// grows by qty; otherwise it starts a new life with qty wanted and none
// bought (what earlier lives counted was cancelled by their removes).
func (l *List) Add(c *Clock, name string, qty int64) error {
	display, err := checkName(name)
	if err != nil {
		return err
	}
	if err := checkQuantity(qty); err != nil {
		return err
	}
	if err := l.writable(c); err != nil {
		return err
	}
	key := Normalize(display)
	it := l.items[key]
	fresh := it == nil || !it.present()
	switch {
	case fresh && l.npresent >= MaxItems:
		return fmt.Errorf("%w: a list holds at most %d items", ErrTooLarge, MaxItems)
	case it == nil && len(l.items) >= MaxEntries:
		return fmt.Errorf("%w: a list keeps at most %d items, removed ones included", ErrTooLarge, MaxEntries)
	case it == nil:
		it = &item{key: key}
	}
	ts, err := l.edit(it, c, func(s *slot) *uint64 { return &s.wantAdd }, qty)
	if err != nil {
		return err
	}
	if fresh {
		it.display = register{value: display, at: ts}
		l.npresent++
	}
	l.items[key] = it
	return nil
}

// SetWanted sets the wanted quantity of a present item to qty (≥ 1, and
// not below what is bought). It is a set: of two concurrent sets the later
// holds, never their sum; adds it had not seen apply on top of it.
func (l *List) SetWanted(c *Clock, name string, qty int64) error {
	it, err := l.present(c, name)
	if err != nil {
		return err
	}
	if err := checkQuantity(qty); err != nil {
		return err
	}
	if v := view(it); qty < v.Bought {
		return fmt.Errorf("%w: %d of %q already bought; wanted cannot go below that (unbuy first)", ErrInvalidQuantity, v.Bought, it.display.value)
	}
	ts, err := l.edit(it, c, nil, 0)
	if err != nil {
		return err
	}
	it.set = wantedSet{at: ts, wanted: uint64(qty), obs: slices.Clone(it.slots)}
	it.normalise(l.floor) // drops the observations the set will never use
	return nil
}

// Decrease takes n off the wanted quantity of a present item. It is a
// counter change, so concurrent decreases add up; it may not take wanted
// below 1 or below what is bought.
func (l *List) Decrease(c *Clock, name string, n int64) error {
	it, err := l.present(c, name)
	if err != nil {
		return err
	}
	if err := checkQuantity(n); err != nil {
		return err
	}
	if v := view(it); v.Wanted-n < max(1, v.Bought) {
		return fmt.Errorf("%w: %d of %q wanted and %d bought, cannot take %d off", ErrInvalidQuantity, v.Wanted, it.display.value, v.Bought, n)
	}
	_, err = l.edit(it, c, func(s *slot) *uint64 { return &s.wantRm }, n)
	return err
}

// Buy marks n of a present item as bought. Buying more than remains is
// ErrOverBuy and changes nothing.
func (l *List) Buy(c *Clock, name string, n int64) error {
	it, err := l.present(c, name)
	if err != nil {
		return err
	}
	if err := checkQuantity(n); err != nil {
		return err
	}
	if v := view(it); n > v.Remaining {
		return fmt.Errorf("%w: %d of %q remain, cannot buy %d", ErrOverBuy, v.Remaining, it.display.value, n)
	}
	_, err = l.edit(it, c, func(s *slot) *uint64 { return &s.buyAdd }, n)
	return err
}

// Unbuy takes back n bought of a present item (unchecking it).
func (l *List) Unbuy(c *Clock, name string, n int64) error {
	it, err := l.present(c, name)
	if err != nil {
		return err
	}
	if err := checkQuantity(n); err != nil {
		return err
	}
	if v := view(it); n > v.Bought {
		return fmt.Errorf("%w: only %d of %q bought, cannot unbuy %d", ErrInvalidQuantity, v.Bought, it.display.value, n)
	}
	_, err = l.edit(it, c, func(s *slot) *uint64 { return &s.buyRm }, n)
	return err
}

// Remove removes a present item. The remove records what it saw of every
// replica's edits and cancels exactly that: an edit it had not seen keeps
// the item, with that edit's part only. The item stays as a tombstone.
func (l *List) Remove(c *Clock, name string) error {
	it, err := l.present(c, name)
	if err != nil {
		return err
	}
	it.removed = l.tick(c)
	it.sign(c, it.removed)
	snaps := slices.Clone(it.slots)
	for i := range snaps {
		snaps[i] = snaps[i].withExt(snaps[i].base(), it.removed)
	}
	it.cut = mergeSlots(it.cut, snaps)
	l.npresent--
	l.normalise(it, l.floor) // what the remove saw may be over for good
	l.bound()
	return nil
}

// SetCategory sets the category (aisle) of a present item; "" clears it.
func (l *List) SetCategory(c *Clock, name, category string) error {
	return l.setText(c, name, category, MaxCategoryBytes, "category", func(it *item) *register { return &it.category })
}

// SetNote sets the note of a present item; "" clears it.
func (l *List) SetNote(c *Clock, name, note string) error {
	return l.setText(c, name, note, MaxNoteBytes, "note", func(it *item) *register { return &it.note })
}

func (l *List) setText(c *Clock, name, text string, maxLen int, what string, field func(*item) *register) error {
	it, err := l.present(c, name)
	if err != nil {
		return err
	}
	text, err = checkText(text, maxLen, what)
	if err != nil {
		return err
	}
	ts := l.tick(c)
	*field(it) = register{value: text, at: ts}
	it.sign(c, ts)
	return nil
}

// edit adds n to one counter (nil: none) of the clock's replica's slot and
// stamps the slot, after checking the limits: on error nothing has changed.
func (l *List) edit(it *item, c *Clock, field func(*slot) *uint64, n int64) (Timestamp, error) {
	cur, ok := find(it.slots, c.Replica())
	if !ok && len(it.slots) >= MaxReplicas {
		return Timestamp{}, fmt.Errorf("%w: an item holds at most %d replicas' counters", ErrTooLarge, MaxReplicas)
	}
	if field != nil && *field(&cur)+uint64(n) > MaxCounter {
		return Timestamp{}, fmt.Errorf("%w: counter would pass %d", ErrTooLarge, int64(MaxCounter))
	}
	ts := l.tick(c)
	s := it.slotFor(ts.Replica, l.floor)
	if field != nil {
		*field(s) += uint64(n)
	}
	s.stamp = ts
	it.sign(c, ts)
	return ts, nil
}

// present returns the named item for an edit: it must be present, and the
// list not deleted.
func (l *List) present(c *Clock, name string) (*item, error) {
	if err := l.writable(c); err != nil {
		return nil, err
	}
	return l.lookup(name)
}

// lookup returns the named item if it is present.
func (l *List) lookup(name string) (*item, error) {
	it := l.items[Normalize(name)]
	if it == nil || !it.present() {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, TrimName(name))
	}
	return it, nil
}

// Lookup returns the view of the named item if it is present.
func (l *List) Lookup(name string) (ItemView, bool) {
	it, err := l.lookup(name)
	if err != nil {
		return ItemView{}, false
	}
	return view(it), true
}

// Contribution is one replica's part of an item's quantities: the net of
// what its own edits added and took away, less what later edits it did not
// make cancelled (a remove, or a set of the wanted quantity, cancels the
// part it saw).
type Contribution struct {
	Replica        uuid.UUID
	Wanted, Bought int64
}

// Contributions returns each replica's part of the named item, ordered by
// replica, for checking one writer's edits on their own; nil if the item
// is not present. The value of a live set of the wanted quantity is no
// replica's part.
func (l *List) Contributions(name string) []Contribution {
	it, err := l.lookup(name)
	if err != nil {
		return nil
	}
	live := it.baseLive()
	out := make([]Contribution, 0, len(it.slots))
	for _, s := range it.slots {
		w, b := it.contribution(s, live)
		out = append(out, Contribution{Replica: s.stamp.Replica, Wanted: w, Bought: b})
	}
	return out
}

// Items returns the present items, ordered by key.
func (l *List) Items() []ItemView {
	out := make([]ItemView, 0, len(l.items))
	for _, k := range slices.Sorted(maps.Keys(l.items)) {
		if it := l.items[k]; it.present() {
			out = append(out, view(it))
		}
	}
	return out
}

func view(it *item) ItemView {
	w, b := it.totals()
	w, b = max(w, 0), max(b, 0)
	rem := max(w-b, 0)
	return ItemView{Key: it.key, Name: it.display.value, Category: it.text(it.category), Note: it.text(it.note),
		Wanted: w, Bought: b, Remaining: rem, Acquired: rem == 0, Modified: it.modified(),
		Author: it.author.value, AuthorAt: it.author.at}
}

// Clone returns a deep copy of l.
func (l *List) Clone() *List {
	c := &List{id: l.id, name: l.name, deleted: l.deleted, floor: l.floor, max: l.max, npresent: l.npresent, items: make(map[string]*item, len(l.items))}
	for k, it := range l.items {
		c.items[k] = it.clone()
	}
	return c
}

// Merge joins o into l. It never aliases o: l may be edited afterwards
// without changing o. Lists with different IDs do not merge (l is left as
// it was); otherwise it never fails: limits are checked where an edit is
// made and at Decode, never here, so two valid replicas always converge.
// The result is compacted (see compact.go): removed items dead at or before
// the later floor are forgotten, and at most MaxTombstones are kept.
func (l *List) Merge(o *List) error {
	if l.id != o.id {
		return fmt.Errorf("%w: %s and %s", ErrIDMismatch, l.id, o.id)
	}
	raised := o.floor.After(l.floor)
	l.floor = maxStamp(l.floor, o.floor)
	for k, oit := range o.items {
		it := l.items[k]
		was := it != nil && it.present()
		if it != nil {
			it.merge(oit)
		} else {
			it = oit.clone()
			l.items[k] = it
		}
		switch now := it.present(); {
		case now && !was:
			l.npresent++
		case was && !now:
			l.npresent--
		}
		if !raised {
			l.normalise(it, l.floor)
		}
	}
	l.name.merge(o.name)
	l.deleted.merge(o.deleted)
	l.max = maxStamp(l.max, o.max)
	if raised {
		l.NormaliseAt(l.floor)
	}
	l.bound()
	return nil
}

// Join returns the merge of a and b as a new list, changing neither.
func Join(a, b *List) (*List, error) {
	c := a.Clone()
	if err := c.Merge(b); err != nil {
		return nil, err
	}
	return c, nil
}

// Delta returns the part of l changed after since: the name and the
// deletion if they were set after since, and every item with a stamp after since. It merges into any
// replica exactly as the full state would for those parts; Delta(Timestamp{})
// is a copy of the whole list.
func (l *List) Delta(since Timestamp) *List {
	d := Empty(l.id)
	d.floor = l.floor
	if l.name.at.After(since) {
		d.name = l.name
	}
	if l.deleted.at.After(since) {
		d.deleted = l.deleted
	}
	for k, it := range l.items {
		if it.modifiedAfter(since) {
			d.items[k] = it.clone()
		}
	}
	d.max, d.npresent = d.computeMax(), d.countPresent()
	return d
}

// Split cuts l into one list holding only the header (the name, the
// deletion and the floor) and one
// list per item, each a valid state of l that merges like a delta. Storage
// keeps the parts under separate keys so that merging a small delta touches
// only its items. The first part is the name part; item parts follow in key
// order.
func (l *List) Split() []*List {
	parts := make([]*List, 0, len(l.items)+1)
	head := Empty(l.id)
	head.name, head.deleted, head.floor = l.name, l.deleted, l.floor
	head.max = head.computeMax()
	parts = append(parts, head)
	for _, k := range slices.Sorted(maps.Keys(l.items)) {
		p := Empty(l.id)
		p.items[k] = l.items[k].clone()
		p.max, p.npresent = p.computeMax(), p.countPresent()
		parts = append(parts, p)
	}
	return parts
}

// ItemKeys returns the keys of every item in the state, tombstones included,
// in order.
func (l *List) ItemKeys() []string { return slices.Sorted(maps.Keys(l.items)) }

// NamesUsed returns the displayed name of every item in the state, removed
// ones included, in key order: what a person has ever called the items of
// this list, for completion.
func (l *List) NamesUsed() []string {
	names := make([]string, 0, len(l.items))
	for _, k := range l.ItemKeys() {
		names = append(names, l.items[k].display.value)
	}
	return names
}

func (l *List) computeMax() Timestamp {
	m := maxStamp(maxStamp(l.name.at, l.floor), l.deleted.at)
	for _, it := range l.items {
		m = maxStamp(m, it.modified())
	}
	return m
}
