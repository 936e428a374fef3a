// Package hashring places keys on an MD5 consistent-hash ring of servers.
//
// A [Ring] is an immutable value built by [New] from a membership set; when
// membership changes, build a new Ring (see [Ring.With] and [Ring.Without])
// and swap it in atomically. Because a Ring never changes after New returns,
// it needs no lock and may be shared freely between goroutines.
//
// Every server S owns V virtual nodes (default [DefaultVNodes]); virtual node
// i, for i in 1..V, sits at Position("S-i"). A key lives at Position(key)
// (list IDs in canonical UUID string form) and its preference list, returned
// by [Ring.Owners], is the first n distinct servers met walking clockwise
// from the key: the first virtual node whose position is >= the key's,
// wrapping past 2^64-1 to 0.
//
// [Ring.Ranges], [Ring.Shares] and [Ring.String] describe which arcs of the
// ring each server owns as primary, for operators and for rebalancing.
package hashring
