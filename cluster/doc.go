// Package cluster starts a shoplist proxy and storage servers as child processes.
//
// [Launch] re-executes one binary (by default the running one) once per role:
// the environment variable SHOPLIST_ROLE tells the child which role to run,
// and [RunChild], called first thing by every main that may be re-executed
// (cmd/service, cmd/bench, the TestMain of packages that launch clusters),
// runs that role and reports its exit code. So `go run ./cmd/service` needs
// no other binary.
//
// # Data layout
//
//	<data>/proxy/          the proxy's directory (--data): its ring membership
//	<data>/server-<id>/    one storage server each; <id> is its persistent server ID
//
// On start the launcher restarts exactly the servers it finds (same IDs, same
// data) and creates new ones, with random IDs, until there are Config.Servers.
//
// # Readiness
//
// A child is ready when it says so on stdout: the proxy prints
// "proxy ready: client=... pub=... backend=..." once bound, and a server prints
// "server ready: id=... proxy=... epoch=N" each time the proxy welcomes it (the
// proxy puts a server in its ring before welcoming it). Every other line of a
// child's stdout and stderr goes to Config.Stderr with a "[proxy] " or
// "[server-<id>] " prefix.
//
// # Failures
//
// A child that exits before it is ready, or is not ready in time, fails
// Launch with a [*ChildError] that names it and quotes the end of its stderr.
// After Launch, a child that exits without being asked to is reported by
// [Cluster.NextExit]; [Serve], the service's main loop, keeps running when a
// server dies (the others still hold every list's quorum) and stops the
// cluster when the proxy dies.
package cluster
