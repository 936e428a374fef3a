// Package launcher starts shoplist proxies and storage servers as child
// processes.
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
//	<data>/proxy/          proxy 0's directory (--data): its Raft state and ID,
//	                       and in credentials/ the group's CA and the
//	                       operator's credentials (`service status` reads them)
//	<data>/proxy-<i>/      proxy i's, i ≥ 1, when Config.Proxies > 1, with its
//	                       node credentials in credentials/
//	<data>/server-<id>/    one storage server each; <id> is its persistent server ID,
//	                       and its CURVE key pair is in curve/
//
// On start the launcher restarts exactly the servers it finds (same IDs, same
// data) and creates new ones, with random IDs, until there are Config.Servers;
// it likewise restarts every proxy directory it finds, as one Raft group.
//
// # Proxies
//
// The proxies form one Raft group deciding the ring membership. Proxy i
// listens for clients on PORT+10*i of Config.Listen and takes the next four
// ports for PUB, backend, Raft and its admin API (on loopback). Raft and
// the admin API run over mutual TLS with the group's credentials: before
// any proxy starts, the launcher founds them in proxy 0's directory if they
// are not there yet and issues every other proxy's node credentials from
// the CA (see package groupca); a lone proxy founds its own. Proxy 0
// bootstraps the group; each other proxy is started once proxy 0 is ready,
// with --join and proxy 0's admin address (from its ready line, so free
// ports work too). A
// group restarted from its directories is started all at once, each proxy
// but proxy 0 given every other's admin address. Every server is given every
// proxy's backend endpoint with the proxy's CURVE key (ENDPOINT#KEY, as
// its ready line prints it) and connects to all of them.
//
// # Admission
//
// A proxy's backend accepts a storage server only with a key admitted in
// the group's state. Before it starts servers (at launch, and in
// AddServer), the launcher makes each one's key pair in its directory if it
// has none (the server reuses it), admits every key through a proxy's
// admin API with the operator's credentials, as `proxy admit` does, and
// waits until every running proxy has the admissions. It does so at every
// launch, so a service restarted on its data admits its servers again,
// even one an operator revoked meanwhile. Config.InsecureBackend (bench)
// runs proxies and servers without CURVE and admits nobody.
//
// # Readiness
//
// A child is ready when it says so on stdout: a proxy prints
// "proxy ready: client=... pub=... backend=... raft=... admin=..." once
// bound and in its group, and a server prints "server ready: id=...
// proxy=ENDPOINT epoch=N" each time a proxy welcomes it (a proxy puts a
// server in the ring before welcoming it). A server is ready once every
// running proxy has welcomed it. Every other line of a child's stdout and
// stderr goes to Config.Stderr with a "[proxy] ", "[proxy-<i>] " or
// "[server-<id>] " prefix.
//
// # Reading a running cluster
//
// Proxies, Servers, ClientEndpoints and Endpoints describe the children and
// where clients connect; Status and Statuses ask the proxies' admin APIs
// with the operator's credentials from proxy 0's directory, and
// LeaderProxy finds the Raft leader among them. [StatusMain] is
// `service status`, which asks a running service from outside.
//
// # Faults and restarts
//
// The service signals its children only to stop them all (Close) and never
// restarts one. Tests inject faults through a small seam that keeps the
// launcher's account of its children true: [Cluster.Signal] sends SIGKILL, SIGTERM, SIGSTOP or
// SIGCONT to one child, named as in its logs ([ServerName], [ProxyName]),
// and [Cluster.Restart] starts a stopped one again on its data and
// addresses; [Cluster.AddServer] grows the cluster by one server. Package
// shoplist/testing/faults builds the kill, stop, pause, resume and start of
// servers and proxies on them.
//
// # Failures
//
// A proxy that exits before it is ready, or is not ready in time, fails
// Launch with a [*ChildError] that names it and quotes the end of its stderr.
// A server that does is reported on Config.Stderr the same way and the
// cluster starts without it (a server not ready in time keeps running and
// joins when it can); only a start where every server fails fails Launch.
// A server whose store's files are corrupt does not fail: it sets them
// aside as <data>/server-<id>.corrupt-<time> and starts on an empty store,
// which the other owners refill; the launcher leaves such directories
// alone.
// After Launch, a child that exits without being asked to is reported by
// [Cluster.NextExit]; [Serve], the service's main loop, keeps running when a
// server dies (the others still hold every list's quorum) or a proxy of
// several dies (clients and servers fail over), and stops the cluster when
// the last proxy dies.
package launcher
