// Package loadgen is the load benchmark of a shoplist cluster (command
// bench): simulated clients that speak the real protocol to a proxy,
// latency histograms per operation type, live-update latency, a plain
// ZeroMQ ceiling to compare against, and a verification that every
// acknowledged write can be read back.
//
// # Workload
//
// Each simulated client has its own replica ID and clock, a local replica
// of every list it works on, and one DEALER socket owned by its goroutine
// (a dealer.Conn), with one request outstanding at a time. Clients come in households
// (Config.Group); a fraction of the load lists (Config.Shared) is shared by
// a household, the others are private to one client. A push adds one
// wanted to a random item, or buys one of it, and sends only that item as a
// delta (List.Delta since the replica's previous newest stamp); a pull
// names the local state by its hash (protocol.PullBody) and merges the
// reply into the local replica, or, answered Unchanged, has nothing to
// merge (--full-pulls sends pulls without the hash, each answered with the
// whole list). Latency is the request's round trip.
//
// # Live updates
//
// Subscribers hold SUB sockets subscribed to the load lists' topics. The
// proxy publishes exactly the bytes that were pushed, and each pushed delta
// is unique (it carries a fresh HLC stamp), so a live update is matched to
// its push by its body; its latency runs from the push being sent to the
// update arriving. Before the load each subscriber pushes a probe list
// until its update comes back, so the subscriptions are known to be in
// place.
//
// # Verification
//
// The benchmark only ever increments counters, and every client records
// (ledger.Counters) the increments it sent and those the proxy
// acknowledged, under its own replica ID: a map update per push, where the
// lattice check of package ledger would cost two merges on the hot path.
// After the load, every list is read back with Pull, a quorum read, and
// the record judges it writer by writer: for each list, item and replica,
// that replica's part of the item as read must hold at least what it had
// acknowledged (else an edit was lost) and at most what it sent (else one
// was invented), so another client's edit on a shared list never hides a
// loss. Either is reported, naming the list, item and replica, and makes
// bench exit 1.
//
// # Raw ceiling
//
// RunRaw runs the same clients against a proxy-like ROUTER that forwards
// each request to 3 echo workers and answers after 2: no disk, no
// decoding, the same request pattern. The cluster's throughput is reported
// as a ratio of it.
package loadgen
