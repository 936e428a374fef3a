// Package partition holds the network partition test of a whole shoplist
// cluster, in the style of Jepsen, run by `make partition` (go test -tags
// partition ./testing/partition/). It needs root and Linux network
// namespaces, and skips saying so without them.
//
// # The network
//
// Every proxy (3), every storage server (5, and a spare that schedule 1
// admits) and each group of clients (3) runs in a network namespace of its
// own, joined by a veth pair to a bridge the test creates, with an address
// of 198.18.0.0/24 (the benchmarking range); nothing is sent to any other
// address, and the test's own namespace has none on that network: it
// reaches the cluster only through programs it runs in the namespaces.
// Proxies and servers are the binaries `make build` writes to bin/, run
// with `ip netns exec NS bin/proxy ...` and `bin/server ...` as an
// operator would start them on separate machines: the first proxy founds
// the group, the others get credentials from `proxy issue` and --join it,
// and each server's key is admitted with `proxy admit`. Client groups are
// this test binary run again in their namespace (driver.go): a few
// testcluster.Writers making every kind of edit on private and shared lists
// and failing over between proxies, and a device (a replica and a sync
// engine, as the client runs) whose edits are local first and pushed
// whenever it is online. Every delta a writer or device sends is added to
// one ledger.Sent kept by this process (over a Unix socket, which no
// partition cuts), against which every state a writer pulls is checked;
// each group hands its ledger back when it stops.
//
// Partitions cut links: a link set down isolates a namespace entirely;
// two namespaces given a hardware address nobody has for each other
// (permanent neighbour entries) lose the path between them only, their
// packets dropped silently on the bridge; and veths moved to a second
// bridge split the network in two. There is no latency injection (this
// kernel has no tc netem). Everything —
// namespaces, veths, bridges, processes — is torn down when the test ends,
// failed or not, and what a crashed run left behind (every namespace and
// link named with the test's prefix) is removed before a run starts; a
// lock file keeps two runs from sharing the machine.
//
// # The schedules
//
// Each schedule runs on a fresh cluster while ten writers and three
// devices write, heals, and is judged on its own:
//
//  1. leader: the Raft leader proxy is cut from the other two (clients and
//     servers still reach it); the majority elects a leader and changes
//     the ring twice (it admits the spare server, then removes one), and
//     `proxy status --json` of each proxy must show the isolated one
//     changing nothing and no longer leading;
//  2. server: one server isolated, then healed (sloppy quorum, hints,
//     handoff after the heal);
//  3. minority: two servers cut off from every proxy;
//  4. clients: one client group cut from its proxy only (it fails over),
//     another from everything (its device edits offline and pushes after
//     the heal);
//  5. split: the bridge split in two, one proxy with two servers and its
//     clients on one side, the other proxies, three servers and clients on
//     the other; then healed;
//  6. flapping: one link (the leader's, a server's or a client group's) cut
//     and restored every few hundred milliseconds.
//
// After the heal the clients stop, and the test waits until nothing they
// sent is still in flight (no socket in their namespaces holds data its
// peer has not acknowledged: a push a writer gave up on can sit in the
// retransmission queue of the socket it closed and reach its proxy, which
// still holds that connection, many seconds after the heal). Then the
// checks are the chaos test's (package converge): the cluster converges
// (ring agreed, no hint left, a quiet anti-entropy pass); no acknowledged edit is lost and nothing is invented (the
// ledger's lattice check) on a quorum read through every proxy, on every
// owner's copy and on every client; the owners' copies are byte-identical;
// and every client, each having synced explicitly, holds the same lists.
// Each schedule prints its figures: operations, acknowledged, partitions
// made, time to converge.
//
// # Tuning
//
// The test is behind the build tag partition, so that `make test` does not
// run it. Environment variables tune it:
//
//	PARTITION_DURATION   how long each partition holds (default 15s)
//	PARTITION_FLAP       how long schedule 6 flaps its link (default 20s)
//	PARTITION_CONVERGE   how long convergence may take after a heal (default 3m)
//	PARTITION_SEED       the schedules' random seed (default: from the clock;
//	                     printed); with PARTITION_SCHEDULES it replays one
//	PARTITION_SCHEDULES  which schedules to run, by number: "1,5" (default all)
//	PARTITION_KEEP       a directory to keep data and logs in (default: a
//	                     temporary directory; the log is kept in
//	                     $TMPDIR/shoplist-partition-SEED.log when the test fails)
//	PARTITION_BIN        the directory holding the proxy and server binaries
//	                     (default: bin/ at the module's root, as `make build`
//	                     writes it)
package partition
