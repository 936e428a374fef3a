// Package membership decides the ring membership: by consensus among the
// proxies, with hashicorp/raft as the engine (Node), or for a lone proxy
// without consensus (Registry).
//
// The replicated state is small: the ring epoch, the member servers with
// their state (active or leaving), the replication factor N, the virtual
// nodes per server, the servers that were removed (a removed server stays
// out), the proxies of the group (each one's Raft, admin and client
// addresses, recorded by the proxy itself, and deleted when a Raft
// configuration without it is committed: fsm.StoreConfiguration), and the
// storage servers admitted to the proxies' backend, each ID bound to the
// CURVE public key it connects with (an admission or revocation leaves the
// ring and its epoch alone; a removal revokes). It changes only through
// versioned msgpack commands appended to the Raft log, and the Raft
// configurations committed in it; applying either is deterministic, so
// every proxy that has applied the same log holds the same state, byte for
// byte.
//
// A Node is one proxy's member of the Raft group. It implements
// placement.Membership, placement.Leader and placement.Leaver: View is
// built from the committed state only (a ring of the active members, the leaving ones
// beside it, every proxy's client endpoint), Join, Leave and Remove return
// once the change is committed. A follower hands a change to the leader
// through a Forwarder: package admin's posts it to the leader's admin API,
// found in the proxies table (InmemForwarder does it in memory, for tests).
//
// Raft's transport is TCP with TLS on every connection (transport.go):
// both ends present a certificate of the group's CA and verify the
// other's, so a peer the group did not issue credentials to cannot vote,
// append entries or read the log.
//
// Files: command.go (the command encoding), codec.go (bounded msgpack
// reading), state.go (the state and its transitions), proxies.go (the
// proxies table), admitted.go (the admitted servers), admission.go (Admit
// and Revoke on a Node), fsm.go (raft.FSM), snapshot.go (snapshot encoding),
// node.go (the Node), group.go (the Node in a group of proxies: leadership,
// its own record, timers), config.go (its options), stores.go (log, stable
// and snapshot stores), transport.go (the TLS stream layer), forward.go
// (forwarding to the leader), status.go, hclog.go (raft's logger on slog),
// errors.go, registry.go (the Registry: a lone proxy's membership, in
// memory or in members.json, the file a Node imports its first ring from).
package membership
