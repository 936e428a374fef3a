package server

import "slices"

// Who sends a list whose owners changed. When the ring changes, every old
// owner of a list holds a copy of it, and each runs its own rebalance
// pass. If each sent its copy to every owner it had not seen before, a
// list would reach a new owner once per old owner, and an old owner that
// is no owner any more would send it to every owner: about five sends for
// one list, where one per new owner moves it. So one old owner, the
// sender, does the moving, and the others only make sure their copy is
// not lost when they let it go:
//
//   - The sender is the first of the list's owners on the previous ring,
//     in ring order, that is still an owner; if none is, the first of
//     them. Every old owner computes it from the same two rings, so they
//     agree without a message. It hints the list to each owner that was
//     not one before (every owner, when it is no owner itself).
//   - An old owner that is still an owner, and not the sender, hints
//     nothing: it keeps its copy, which anti-entropy keeps equal to the
//     other owners'.
//   - A server that is no owner any more (and not the sender) hints its
//     copy to one owner, the sender (the first new owner when the sender
//     is no owner either), unless a hint already takes the copy to an
//     owner. The merge there changes nothing when the replicas agree; when
//     this copy holds writes the others lack, they reach an owner before
//     the copy is dropped. It drops the copy only once that owner has
//     acknowledged a durable merge of it (storage/drop.go), so no copy is
//     dropped before an owner holds what it held: never the last one. What
//     reaches the sender after it has moved the list reaches the new
//     owners by anti-entropy, as any difference between owners does.
//
// The first pass after a start does not know the previous ring, and a
// list with a hint for a server that is no owner any more does not follow
// this rule: both hint every owner, as before the rule.

// moveSender returns the old owner that sends a list whose owners were
// before and are owners: the first of before that is in owners, else the
// first of before ("" when before is empty).
func moveSender(before, owners []string) string {
	for _, o := range before {
		if slices.Contains(owners, o) {
			return o
		}
	}
	if len(before) > 0 {
		return before[0]
	}
	return ""
}
