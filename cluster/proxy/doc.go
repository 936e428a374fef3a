// Package proxy routes clients' list requests to the storage servers that
// own each list on the hash ring, with quorum writes and reads, and
// publishes live updates.
//
// A Proxy binds three sockets: a ROUTER for clients, a PUB for live
// updates and a ROUTER for the storage servers. One goroutine owns them
// and runs the poll loop, and only it touches the loop's state; other
// goroutines reach it through a command channel and a doorbell. The
// backend is a CURVE server: a storage server connects only with a key
// the membership admits (the gate, a ZAP handler with a goroutine and a
// socket of its own), and is known by that key, under the one ID it is
// admitted as. A client's
// push or pull becomes an op: it calls the list's N owners, standing in
// for a down owner with the next server on the ring (sloppy quorum), and
// answers the client at W acknowledgements or R answers, or with why the
// quorum failed. A pull then repairs the owners it found behind, and a
// fallback hands what it kept for an owner back through the proxy.
//
// The proxy's memory is bounded in bytes, per client connection and in
// total (Config.MemoryBudget): what it holds for ops, what it has queued
// toward each server and, from small per-peer queues, an upper bound of
// what ZeroMQ queues toward each client; requests that would pass the
// budget are refused with Unavailable, the heavy clients first. Each
// client may create only so many lists the cluster did not hold a minute
// (Config.NewListsPerMinute).
//
// The ring comes from a placement.Membership: the proxy asks it to join
// servers that say hello, adopts each view it decides and announces the
// epoch to the servers. When this proxy leads its group it also runs the
// leader's duties, each decided by a package of its own: anti-entropy
// (package antientropy) and the removal of dead and drained servers
// (package removal).
//
// Files: proxy.go (the Proxy and its API), config.go (its options and the
// quorum rule), loop.go (the loop's state and poll loop), sockets.go
// (binding, socket limits), clients.go (client requests), op.go (an op's
// life, one state machine), route.go (the servers an op calls, sloppy
// quorum), rejection.go (what a client is told when its quorum fails),
// deadlines.go (ops in deadline order), merge.go (merging replicas'
// states), repair.go (read repair), handoff.go (hinted handoff),
// servers.go (storage servers: hellos, joins, liveness, reports),
// gate.go (the backend's ZAP handler), admission.go (each message's
// sender by its key; revocations),
// epochs.go (adopting views, announcing epochs), reroute.go (requests
// refused as stale, routed again under a newer view), duties.go (the leader's
// duties on the loop), status.go (Status), badpeers.go (bad input, logged
// at a bounded rate), budget.go (the memory budget: accounts, admission,
// and why each bound holds), queues.go (what ZeroMQ queues toward a client
// or a server, bounded from what was sent), accounting.go (the loop's side
// of the budget), socketbounds.go (the socket options it rests on),
// newlists.go (the cap on new lists).
package proxy
