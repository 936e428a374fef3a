// Package crdt implements the shopping list as a conflict-free replicated data
// type: a map of items with observed-remove semantics, stamped by a hybrid
// logical clock, with per-replica counters for the wanted and bought
// quantities.
//
// # Rules
//
//   - Items are keyed by their normalised name (see [Normalize]). What is a
//     value — the name shown, the list's name, an item's category and note —
//     is a last-writer-wins register.
//   - Quantities are counted per replica: each replica keeps running totals
//     of what its own edits added to and took from the wanted and bought
//     quantities (its slot), stamped with the HLC time of its latest edit of
//     the item. Only that replica writes its slot, so two versions of a slot
//     merge by taking the later one.
//   - A remove is observed-remove: it records the slots it saw (its cut) and
//     cancels exactly those totals. An item is present while some replica has
//     an edit no remove saw (a slot newer than its cut), and then counts only
//     what that replica did since. So an add, a +1 or a buy made without
//     seeing a remove survives it, with its own part only; and re-adding a
//     removed item starts fresh.
//   - Setting the wanted quantity is a set, not a counter change: it records
//     the value and the slots it saw. The later set (by stamp) holds; edits
//     it did not see apply on top of it, so concurrent sets end at one of
//     their values and a concurrent +1 still counts. A remove that saw a set
//     cancels it.
//   - A category or note is a value a remove clears when it is stamped
//     before the remove; it never keeps an item present.
//   - A list forgets what removes at or before its floor cancelled, and
//     keeps at most MaxTombstones removed items (compact.go).
//   - Bought never hides wanted: a local edit cannot set or decrease wanted
//     below what is bought; concurrent buys may pass wanted, and the item then
//     shows as over-bought (Bought > Wanted, nothing remaining).
//   - Limits apply where an edit is made (a clear error) and at Decode (the
//     whole state refused), never in Merge: Merge is a join (commutative,
//     associative, idempotent) on every pair of valid states, never mutates or
//     aliases its argument, and the encoding is canonical, so two converged
//     replicas encode to the same bytes. The item limit counts present items
//     only: removed ones never block an add.
//   - A list may be deleted for everyone: a last-writer-wins flag in its
//     header that only a later explicit restore clears; a deleted list
//     refuses new edits but keeps every item, concurrent edits included
//     (deletion.go).
//   - An item's author register names who made its latest edit, when the
//     replica that made it has a display name (author.go).
//   - Format version 1 lists (written by earlier releases) decode and convert;
//     their removes keep the rule they were made under (see codec_v1.go).
//
// Files: list.go (the list and its edits), item.go (an item's state, what
// it derives, its merge), deletion.go (deleting a list for everyone),
// author.go (who made an item's latest edit), compact.go (what the list
// forgets, and MergeComplete), clock.go (the hybrid logical clock),
// codec.go and decode.go (the canonical encoding of format version 2),
// codec_v1.go (reading version 1), normalize.go, check.go (what edits
// check of their input), errors.go (limits and errors).
package crdt
