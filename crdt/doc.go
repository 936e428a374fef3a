// Package crdt implements the shopping list as a conflict-free replicated data
// type: a last-writer-wins element set of items, stamped by a hybrid logical
// clock, with per-replica counters for the wanted and bought quantities.
//
// # Rules
//
//   - Items are keyed by their normalised name (see [Normalize]); the name shown
//     to people is a last-writer-wins register.
//   - Every edit of an item (add, set quantity, buy, unbuy) stamps the item's
//     add stamp; a remove stamps its remove stamp. An item is present when its
//     add stamp is at least its remove stamp: on an exact tie, add wins.
//     Removed items stay as tombstones, so a stale replica cannot revive them.
//   - Quantities are PN-counters with one slot per replica. Each replica only
//     ever writes its own slot, and stamps it with the HLC time of its latest
//     edit, so two slots of one replica merge by taking the later one.
//   - Re-adding a removed item starts fresh: a slot whose stamp is older than the
//     item's remove stamp belongs to an earlier life of the item and is dropped.
//     The one known edge: a replica that has not yet seen a concurrent remove
//     and edits the item again at a later time carries its pre-remove count
//     into the new life, because its slot is a single running total. The count
//     can then be too high, but an add is never lost.
//   - Merge is a join (commutative, associative, idempotent); it never mutates
//     or aliases its argument, and the encoding of a state is canonical, so two
//     converged replicas encode to the same bytes.
package crdt
