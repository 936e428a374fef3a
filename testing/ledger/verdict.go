package ledger

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// Kind says how a part of a stored state fails the check.
type Kind int

const (
	// Lost: the stored part lacks something the cluster acknowledged.
	Lost Kind = iota + 1
	// Invented: the stored part holds something no writer attempted.
	Invented
)

func (k Kind) String() string {
	switch k {
	case Lost:
		return "lost"
	case Invented:
		return "invented"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Failure is one part of a stored list (its name, or one item) that the
// check refuses.
type Failure struct {
	List uuid.UUID
	// Item is the item's normalised key; "" for the list's name part.
	Item string
	Kind Kind
	// Writers, for a lost part, are the writers whose Acked state holds
	// something the stored part lacks, sorted.
	Writers []string
	// Stored is what the stored part holds, as a person reads it. Bound is
	// the part it is held to: for a lost part, the join of the stored
	// part with what was acknowledged; for an invented one, the join of
	// every attempt.
	Stored, Bound string
}

// String names the failure on one line: list, part, kind, writers, and
// what the stored part and its bound show.
func (f Failure) String() string {
	part := fmt.Sprintf("item %q", f.Item)
	if f.Item == "" {
		part = "the list's name"
	}
	var s string
	switch f.Kind {
	case Lost:
		who := "no single writer's acknowledged state"
		if len(f.Writers) > 0 {
			who = "the acknowledged state of " + strings.Join(f.Writers, ", ")
		}
		s = fmt.Sprintf("list %s, %s: acknowledged edit lost, held by %s: stored %s; with what was acknowledged: %s",
			f.List, part, who, f.Stored, f.Bound)
	default:
		s = fmt.Sprintf("list %s, %s: holds what no writer attempted: stored %s; every attempt together: %s",
			f.List, part, f.Stored, f.Bound)
	}
	if f.Stored == f.Bound {
		s += " (they differ in what they record, not in what they show)"
	}
	return s
}

// Verdict is the outcome of checking stored states against a Ledger.
type Verdict struct {
	// Lists is how many lists were checked; Damaged how many of them lost
	// or invented something; Missing how many had acknowledged pushes and
	// no state at all.
	Lists, Damaged, Missing int
	// Acknowledged counts the acknowledged pushes of the lists checked.
	Acknowledged int64
	// Lost and Invented count the failing parts (a list's name, an item)
	// of each kind; a part can be both.
	Lost, Invented int
	// Failures names each of them, by list (as checked), then part (the
	// name first, items by key), lost before invented.
	Failures []Failure
}

// OK reports whether nothing was lost or invented.
func (v Verdict) OK() bool { return v.Lost == 0 && v.Invented == 0 }

// Add merges o into v.
func (v *Verdict) Add(o Verdict) {
	v.Lists += o.Lists
	v.Damaged += o.Damaged
	v.Missing += o.Missing
	v.Acknowledged += o.Acknowledged
	v.Lost += o.Lost
	v.Invented += o.Invented
	v.Failures = append(v.Failures, o.Failures...)
}

// String states the outcome in one line; Named lists the failures behind
// it.
func (v Verdict) String() string {
	s := fmt.Sprintf("checked %d lists: %d acknowledged pushes, %d parts lost, %d invented", v.Lists, v.Acknowledged, v.Lost, v.Invented)
	if v.OK() {
		return s + ": OK"
	}
	return fmt.Sprintf("%s, in %d lists (%d missing entirely): DATA LOST OR CORRUPTED", s, v.Damaged, v.Missing)
}

// Named returns one line per failure (Failure.String), at most limit of
// them; when there are more, a last line says how many were left out.
func (v Verdict) Named(limit int) []string { return named(v.Failures, limit) }

// named returns one line per failure, at most limit of them; when there
// are more, a last line says how many were left out.
func named[F fmt.Stringer](failures []F, limit int) []string {
	var out []string
	for i, f := range failures {
		if i == limit {
			out = append(out, fmt.Sprintf("and %d more failures", len(failures)-limit))
			break
		}
		out = append(out, f.String())
	}
	return out
}

// Check judges one list's stored state (nil when the read found nothing)
// against the ledger: with A and T its Bounds, it requires A ⊑ S and
// S ⊑ T, where x ⊑ y when Join(x, y) encodes to the bytes of y. Each part
// of Join(A, S) that differs from S's is a lost part, named with the
// writers whose Acked state is not covered there; each part of Join(S, T)
// that differs from T's is an invented one.
func (l *Ledger) Check(list uuid.UUID, final *crdt.List) Verdict {
	v := Verdict{Lists: 1}
	_, v.Acknowledged = l.Counts(list)
	a, t := l.Bounds(list)
	s := crdt.Empty(list)
	switch {
	case final == nil:
		if v.Acknowledged > 0 {
			v.Missing = 1
		}
	case final.ID() != list:
		v.Invented++
		v.Failures = append(v.Failures, Failure{List: list, Kind: Invented,
			Stored: fmt.Sprintf("the state of another list, %s", final.ID()), Bound: "a state of this list"})
	default:
		s = final
	}
	var sp *parts // s cut into parts, when needed
	if ja := mustJoin(a, s); !sameBytes(ja, s) {
		sp = split(s)
		jp := split(ja)
		holders := l.holders(list)
		// A stored state that forgot what removes at or before its floor
		// cancelled (crdt/compact.go) no longer shows that an acknowledged
		// edit was cancelled by a remove that landed without being
		// acknowledged. Such a part is excused when every attempt
		// together, forgotten at the same floor, holds exactly what S
		// holds there: the remove that explains it was sent.
		var tf *parts
		if !s.Floor().IsZero() {
			tf = split(atFloor(t, s))
		}
		for _, k := range differing(jp, sp) {
			if tf != nil && !k.name && bytes.Equal(tf.enc[k.item], sp.enc[k.item]) {
				continue
			}
			v.Lost++
			v.Failures = append(v.Failures, Failure{List: list, Item: k.item, Kind: Lost,
				Writers: holders.of(k, sp), Stored: sp.describe(k), Bound: jp.describe(k)})
		}
	}
	t = atFloor(t, s)
	if jt := mustJoin(s, t); !sameBytes(jt, t) {
		if sp == nil {
			sp = split(s)
		}
		tp := split(t)
		for _, k := range differing(split(jt), tp) {
			v.Invented++
			v.Failures = append(v.Failures, Failure{List: list, Item: k.item, Kind: Invented,
				Stored: sp.describe(k), Bound: tp.describe(k)})
		}
	}
	slices.SortStableFunc(v.Failures, func(x, y Failure) int {
		// The name part ("") sorts first; then lost before invented.
		if c := cmp.Compare(x.Item, y.Item); c != 0 {
			return c
		}
		return cmp.Compare(x.Kind, y.Kind)
	})
	if !v.OK() {
		v.Damaged = 1
	}
	return v
}

// Sent is the join, per list, of every delta any writer sent so far. Every
// writer adds each delta before sending it, so whatever the cluster holds
// at any moment, and so every state read from it, is covered by Sent at
// the moment it is read. It is safe for concurrent use.
type Sent struct {
	mu    sync.Mutex
	lists map[uuid.UUID]*crdt.List // guarded by mu
}

// NewSent returns an empty Sent.
func NewSent() *Sent { return &Sent{lists: map[uuid.UUID]*crdt.List{}} }

// Add joins delta, about to be sent, into its list's state.
func (s *Sent) Add(delta *crdt.List) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.lists[delta.ID()]
	if t == nil {
		t = crdt.Empty(delta.ID())
		s.lists[delta.ID()] = t
	}
	join(t, delta)
}

// Check returns an Invented failure for each part of read, a state just
// read from the cluster, that the deltas sent so far do not cover; none if
// read ⊑ the join of them.
func (s *Sent) Check(read *crdt.List) []Failure {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.lists[read.ID()]
	if t == nil {
		t = crdt.Empty(read.ID())
	}
	t = atFloor(t, read)
	j := mustJoin(read, t)
	if sameBytes(j, t) {
		return nil
	}
	rp, tp := split(read), split(t)
	var out []Failure
	for _, k := range differing(split(j), tp) {
		out = append(out, Failure{List: read.ID(), Item: k.item, Kind: Invented, Stored: rp.describe(k), Bound: tp.describe(k)})
	}
	return out
}

// atFloor returns bound compacted at the floor of state (crdt/compact.go),
// bound itself if that forgets nothing: a state that forgot what removes
// before its floor cancelled is still within the bound when the bound
// forgets the same.
func atFloor(bound, state *crdt.List) *crdt.List {
	if !state.Floor().After(bound.Floor()) {
		return bound
	}
	c := bound.Clone()
	c.Compact(state.Floor())
	return c
}

func mustJoin(x, y *crdt.List) *crdt.List {
	j := y.Clone()
	join(j, x)
	return j
}

func sameBytes(x, y *crdt.List) bool { return bytes.Equal(x.Encode(), y.Encode()) }

// key names a part of a list: its name, or the item with a key.
type key struct {
	name bool
	item string
}

// parts is a list cut by crdt.List.Split, with each part's encoding.
type parts struct {
	name    *crdt.List
	nameEnc []byte
	items   map[string]*crdt.List
	enc     map[string][]byte
}

func split(l *crdt.List) *parts {
	ps := l.Split()
	p := &parts{name: ps[0], nameEnc: ps[0].Encode(), items: map[string]*crdt.List{}, enc: map[string][]byte{}}
	for _, q := range ps[1:] {
		k := q.ItemKeys()[0]
		p.items[k], p.enc[k] = q, q.Encode()
	}
	return p
}

// part returns the part k and its encoding; nil for an item the list
// does not hold.
func (p *parts) part(k key) (*crdt.List, []byte) {
	if k.name {
		return p.name, p.nameEnc
	}
	return p.items[k.item], p.enc[k.item]
}

// differing returns the keys of the parts of over (a state that holds
// base) that differ from base's: the name first, then items by key.
func differing(over, base *parts) []key {
	var out []key
	if !bytes.Equal(over.nameEnc, base.nameEnc) {
		out = append(out, key{name: true})
	}
	for _, k := range slices.Sorted(maps.Keys(over.enc)) {
		if !bytes.Equal(over.enc[k], base.enc[k]) {
			out = append(out, key{item: k})
		}
	}
	return out
}

// describe says what part k holds, as a person reads it.
func (p *parts) describe(k key) string {
	l, _ := p.part(k)
	if k.name {
		if l.Name() == "" {
			return "no name"
		}
		return fmt.Sprintf("name %q", l.Name())
	}
	if l == nil {
		return "absent"
	}
	v, ok := l.Lookup(k.item)
	if !ok {
		return "removed"
	}
	s := fmt.Sprintf("present, wanted %d, bought %d", v.Wanted, v.Bought)
	if v.Category != "" {
		s += fmt.Sprintf(", category %q", v.Category)
	}
	if v.Note != "" {
		s += fmt.Sprintf(", note %q", v.Note)
	}
	var by []string
	for _, c := range l.Contributions(k.item) {
		by = append(by, fmt.Sprintf("%s %+d/%+d", c.Replica.String()[:8], c.Wanted, c.Bought))
	}
	return s + " (replicas' parts, wanted/bought: " + strings.Join(by, ", ") + ")"
}

// holders finds, part by part, the writers whose Acked state of one list
// is not covered by a stored state.
type holders struct {
	names []string
	acked []*parts // by writer, as names
}

func (l *Ledger) holders(list uuid.UUID) holders {
	var h holders
	for _, w := range l.Writers() {
		if r := l.writers[w][list]; r != nil && r.acks > 0 {
			h.names = append(h.names, w)
			h.acked = append(h.acked, split(r.acked))
		}
	}
	return h
}

// of returns the writers whose Acked part k is not covered by stored's.
func (h holders) of(k key, stored *parts) []string {
	var out []string
	base, _ := stored.part(k)
	for i, p := range h.acked {
		wl, _ := p.part(k)
		if wl == nil {
			continue
		}
		if base == nil {
			base = crdt.Empty(wl.ID())
		}
		if !sameBytes(mustJoin(wl, base), base) {
			out = append(out, h.names[i])
		}
	}
	return out
}
