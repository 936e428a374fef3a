// Package server is a storage server: it merges the list states the proxy
// sends it (Store, and HintedStore when it stands in for a down owner) into
// its durable store, answers with its replica (Fetch) and with digests of a
// ring range for anti-entropy (Digest), hands hinted states back to their
// owners (Handoff), moves the lists whose owners change when the ring
// changes (rebalancing, rebalance.go), and reports what it stores to each
// proxy once per interval (ServerReport). docs/PROTOCOL.md is the contract
// it speaks; Main is the command line (cmd/server), Start the same server
// in-process.
//
// # Goroutines and sockets
//
// Every ZeroMQ socket belongs to exactly one goroutine:
//
//   - The socket loop (loop.go) owns one DEALER per proxy backend endpoint
//     (a link, link.go; a proxy can only route to servers connected to it,
//     so the server keeps a connection to each proxy rather than failing
//     over between them) and the PULL end of the Server's doorbell
//     (internal/doorbell). It polls them, answers control messages itself
//     (welcome, heartbeat, EpochAnnounce, refusals of bad input:
//     dispatch.go), sends each welcomed proxy a ServerReport of counts kept
//     in memory once per interval, and queues stores, fetches and digests
//     on a channel. It never blocks on anything but the poll and never
//     touches the disk; when the queue is full, or the memory budget has
//     no room for the request's bytes (budget.go), it answers Unavailable
//     at once.
//   - Workers (worker.go, Config.Workers of them) take requests from the
//     queue, decode, check and merge (storage.SaveMerge, durable and
//     group-committed) or read (storage.LoadEncoded, served from a cache of
//     canonical encodings) or answer a Digest (storage.Store.Digests, from
//     the store's in-memory index of list hashes), so one slow list holds
//     up one worker only. They
//     own no socket: each reply goes on a queue in memory (replies.go) with
//     a route: the link and that link's connection number. The loop
//     forwards it on the link if the connection is still the one the
//     request came on, and drops it otherwise (the request ID would mean
//     nothing to whoever is connected now).
//   - The handoff goroutine (handoff.go) owns no socket either: it reads the
//     hints this server keeps for down owners (HintedStore) and queues a
//     Handoff for each on the same queue; the loop sends it on a welcomed
//     link and passes the proxy's answer back on a channel, and the
//     goroutine then drops the hint and, if this server does not own the
//     list, its copy (by the rule of storage/drop.go). Each round starts
//     with a rebalance pass when a new ring epoch has been adopted: it
//     records durable move hints for the lists whose owners changed, which
//     the same rounds deliver.
//   - The doorbell's goroutine (internal/doorbell, Doorbell.RunUntil) owns
//     the inproc PUSH socket connected to the loop's PULL. The first reply
//     queued after the loop last emptied the queue rings it (replies.go),
//     so under load one wake-up carries many replies; it also rings once
//     when the context ends, to get the loop out of its poll, and keeps
//     ringing for the workers' last replies until the loop has returned.
//
// Close cancels the context; the loop stops reading requests, closes the
// queue and forwards replies until every worker has returned (queued
// requests are answered "shutting down"); then the store closes.
//
// # Liveness
//
// Paranoid Pirate, as in docs/PROTOCOL.md §8: any message from a proxy
// proves it alive; the server heartbeats a proxy it has sent nothing to for
// an interval; a proxy silent for Liveness intervals is given up: the DEALER
// is closed (linger 0) and, after a back-off (see Config.minBackoff),
// reopened. DEALERs use ZMQ_IMMEDIATE, so nothing queues for a proxy that is
// not connected, and a DEALER that polls writable is connected: the hello
// goes out then, and again once per interval until a ServerWelcome comes.
// Each welcome (the first, and each after a reconnection) is reported by
// Main as `server ready: id=ID proxy=ENDPOINT epoch=N`.
//
// # Corruption
//
// The store heals what the server cannot read and sets corrupt engine
// files aside (storage.Options.SelfHeal and SetAsideCorrupt; see
// storage/heal.go and storage/aside.go): a server is one of N replicas of
// its lists, and the other owners make it whole again, by anti-entropy and
// read repair. Its ServerReport and Stats count the heals and the lists it
// still refuses, and say whether it started on an empty store. `server
// repair` (repair.go) is the operator's side, on a stopped server's store.
//
// # Identity
//
// The server ID is generated once ("srv-" and 8 hex digits, or Config.ID)
// and kept in <Dir>/server-id, written atomically, under the store's
// directory lock, so a restarted server is the same ring member with the
// same data. Its CURVE key pair is made once too, in <Dir>/curve
// (server.key, mode 0600, and server.pub, the file an operator admits;
// curve.go). Each DEALER is a CURVE client with that pair that pins its
// proxy's key (ENDPOINT#KEY), so only that proxy can complete the
// handshake, and a proxy knows the server by its key, under the one ID it
// is admitted as. A DEALER's routing identity is the ID and a random part
// (ID/RANDOM), new for each socket, so that no other server can take its
// place in the proxy's ROUTER. A monitor of each DEALER's handshakes
// (monitor.go) reports a proxy that refuses the key, and one that does not
// hold the key the server was given. Config.InsecureBackend (benchmarks)
// connects without CURVE, with the ID as the routing identity.
package server
