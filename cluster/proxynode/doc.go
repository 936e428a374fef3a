// Package proxynode runs the proxy role: it parses the proxy command's
// flags, opens the proxy's Raft membership (a membership.Node in its data
// directory), serves the admin API (package admin) and starts a
// proxy.Proxy that routes with that membership. cmd/proxy and the service
// launcher's proxy role run Main.
//
// A proxy started without --join is a Raft group of its own (a single
// voter, unless its stored configuration has more); one started with
// --join asks the proxies at those admin addresses to add it to their group
// as a voter, and receives the ring from the leader. Every proxy records
// its addresses in the replicated state, so that followers find the
// leader's admin API to forward changes to, and servers and clients learn
// every proxy's client endpoint.
//
// The data directory (--data) holds:
//
//	proxy-id               this proxy's Raft ID, generated on first start
//	raft/raft.db           Raft's log and stable store
//	raft/snapshots/        Raft's snapshots
//	members.json.imported  the ring of an earlier proxy (membership.Registry),
//	                       imported into Raft on the first start with Raft
package proxynode
