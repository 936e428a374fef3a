// Package removal decides which ring members the leading proxy removes,
// and when.
//
// Only the leader removes (every proxy of a group sees the same servers,
// and one decision is enough):
//
//   - a member that has not been usable for Config.DeadAfter (counted from
//     when this proxy became leader at the latest, so a new leader gives
//     every server the full delay) is dead and removed; shorter outages
//     never change the ring, sloppy quorum covers them;
//   - a leaving member is removed once it has drained: its latest
//     ServerReport, sent at an epoch in which it was already leaving, says
//     it stores no list and keeps no hint.
//
// One removal of a member is in progress at a time, and one that failed is
// not retried for Config.RetryAfter.
//
// The Decider only decides: the proxy's loop tells it what it sees (the
// views it adopts, the servers' liveness and reports), asks the membership
// for each removal it returns, off the loop, and hands it the outcome
// (Done). Files: decider.go.
package removal
