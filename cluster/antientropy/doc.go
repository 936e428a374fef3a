// Package antientropy compares and repairs the replicas of one ring range at
// a time: the leading proxy's coordinator.
//
// Replicas of a list can diverge without anyone noticing: a Store lost with
// a crashed server, a hint dropped, a write acknowledged by W of N replicas
// while the last one was paused. Read repair fixes lists that are read;
// anti-entropy fixes the others. On the leader proxy only, once per
// Config.Interval, a round takes the next primary range of the ring (round
// robin over Ring.Ranges) and its N owners (Ring.OwnersAt(range.End, N):
// every position of a primary range has the same preference list). If
// every owner is usable it:
//
//  1. sends each owner a Digest of the range cut into Buckets buckets and
//     compares the answers' (Count, Sum) per bucket; equal everywhere means
//     the range is in sync and the round ends;
//  2. sends a second Digest wanting the differing buckets from the range's
//     cursor on, as many as fit in Config.MaxEntries entries (a bucket
//     holding more is digested again, cut into Buckets buckets of its own,
//     until what differs fits), and compares the entries: a list whose
//     hash differs between owners, or that some owner lacks, differs;
//  3. Fetches the differing lists (at most Config.MaxRepairs, the first
//     in ring order from the cursor) from every owner, and moves the
//     range's cursor past what it compared, so that the next round over
//     the range goes on from there (sweep.go);
//  4. merges the answers (Host.Merge) and Stores the merge on every owner
//     whose bytes differ from it. Servers merge what they are sent, so this
//     never loses a write that arrived meanwhile.
//
// One round is in flight at most. Each phase ends when every call is
// answered, or failed (an Error, the server no longer usable, the send
// failed), or at the phase's deadline (Config.Timeout), so a server that
// never answers cannot wedge the rounds: a digest missing from an owner
// ends the round uncompared; a missing Fetch leaves that owner out of the
// merge and the repair. The ring epoch changing ends the round.
//
// The Coordinator is a state machine without a socket. The proxy's loop
// runs it: it calls Tick on every iteration with the time and its view of
// the ring, hands it the replies to its requests (Reply) and the requests
// it could not send (NotSent), and sends the requests each of these
// returns. What the coordinator needs to know of the proxy (leadership,
// which servers are usable, which lists a push is writing, request IDs, how
// replicas' states merge) it asks through Host.
//
// Files: coordinator.go (the Coordinator, its Host, starting rounds),
// round.go (a round's phases), compare.go (the comparisons of digests),
// sweep.go (each range's cursor, and the buckets a round itemises),
// stats.go (its counters).
package antientropy
