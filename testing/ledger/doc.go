// Package ledger records what writers sent and what the cluster
// acknowledged, and judges a state read back against it.
//
// # The lattice check (Ledger)
//
// A list is a join semilattice: Merge is a join, and equal states encode
// to equal bytes, so x ⊑ y (y holds everything x holds) exactly when
// Join(x, y) encodes to the bytes of y. A Ledger keeps, for each writer and
// list, two states:
//
//   - Acked, the join of every delta the cluster acknowledged (a push's
//     delta is joined in when its OK arrives);
//   - Attempted, the join of every delta the writer sent, acknowledged or
//     not: a push that timed out or was refused may still have landed.
//
// With A the join of every writer's Acked and T the join of every writer's
// Attempted, a stored state S of the list (a quorum read, or one replica's
// copy) is correct when A ⊑ S (nothing acknowledged is missing) and S ⊑ T
// (nothing was invented). This holds for every kind of edit — adds, sets,
// decreases, buys, unbuys, removes, re-adds, renames, categories, notes —
// because it asks nothing of what an edit means, only that the cluster
// keeps joins of what it was given. Check names what differs, part by part
// (crdt.List.Split: the list's name, and each item by key): a lost part is
// one where Join(A, S) differs from S, named with the writers whose Acked
// state holds what S lacks; an invented part is one where Join(S, T)
// differs from T. A remove the stored state lacks shows as a lost part: the
// item is present in S and removed in Join(A, S).
//
// A writer's deltas carry what it had pulled from others (a delta is the
// writer's whole state of the item it edited), so T also holds whatever
// writers pulled. A state pulled with something nobody sent would thus be
// laundered into T by the next push; Sent closes that gap: every writer
// joins each delta into one shared Sent before sending it, and every state
// pulled while the writers run must be covered by Sent at that moment.
//
// # The counter check (Counters)
//
// Writers that only ever add to the wanted and bought counters (the
// benchmark's) may instead record increments per list, item and replica:
// a map update per push rather than two merges. See Counters.
package ledger
