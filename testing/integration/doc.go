// Package integration holds the tests of a whole shoplist cluster.
//
// Some run a proxy and storage servers inside the test process, where a
// server's store can be watched while it runs: replication to a list's
// owners, quorums, hinted handoff, read repair, live updates and hostile
// frames. The others launch the proxies and servers as separate processes
// (package launcher, which re-executes the test binary; TestMain runs the
// role) and inject faults into them (package faults): a server killed in
// the middle of a stream of pushes, two replicas hung, a proxy restarted,
// the leader of a Raft group of three proxies killed, a server joining while
// clients write. The package has no code of its own.
package integration
