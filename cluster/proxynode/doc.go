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
// Raft and the admin API run over mutual TLS with the group's credentials
// (package groupca). A proxy that starts a group of its own and has none
// founds them: the group's CA, its own credentials and an operator's. A
// joining proxy must be started with credentials the group issued: `proxy
// issue --out DIR`, run where the founder's data is, writes them, and the
// new proxy takes them with --credentials DIR (or finds them in
// DATA/credentials). A proxy without them is refused by the handshake.
//
// The backend, where storage servers connect, and the client socket and
// PUB, where clients do, are CURVE servers with the proxy's own key pair
// (curve.go), made on first start; servers and clients are given the
// public key with the endpoint (ENDPOINT#KEY, as the ready line prints
// each endpoint). Servers are admitted by their key (`proxy admit`);
// clients are not, a list ID being their permission. A proxy without
// --data has a new key pair at each start.
//
// The data directory (--data) holds:
//
//	proxy-id               this proxy's Raft ID, generated on first start
//	raft/raft.db           Raft's log and stable store
//	raft/snapshots/        Raft's snapshots
//	credentials/           its credentials, unless --credentials names others
//	                       (mode 0700, files 0600): ca.pem, node.pem,
//	                       node-key.pem; the founder's also ca-key.pem,
//	                       operator.pem and operator-key.pem
//	curve/                 the backend's CURVE key pair (mode 0700): proxy.key
//	                       (0600, secret) and proxy.pub
//	members.json.imported  the ring of an earlier proxy (membership.Registry),
//	                       imported into Raft on the first start with Raft
package proxynode
