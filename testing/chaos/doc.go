// Package chaos holds the chaos test of a whole shoplist cluster, run by
// `make chaos` (go test -tags chaos ./testing/chaos/): three proxies and five
// storage servers as separate processes, ten writing clients making every
// kind of edit (add, +1, -1, set, buy, unbuy, remove, re-add, rename,
// category, note; testcluster.Writers) on private and shared lists for at
// least a minute while a fault injector SIGKILLs and restarts random
// servers and the leader proxy and pauses others (SIGSTOP/SIGCONT); then,
// with the faults stopped, it waits for the replicas to converge and judges
// what the cluster holds with package ledger's lattice check — every
// acknowledged delta contained, nothing beyond what was sent — on a quorum
// read of every list, on each of the N owners' copies and on the lists of
// clients that sync; it also checks that the owners' copies are
// byte-identical and that the syncing clients all see the same lists. It
// prints its figures, operations by kind among them, and fails on any lost
// or invented part, naming the list, the item and the writers.
//
// The test is behind the build tag chaos so that `make test` does not run
// it. Environment variables tune it:
//
//	CHAOS_DURATION   how long clients write under faults (default 60s)
//	CHAOS_CONVERGE   how long convergence may take afterwards (default 5m)
//	CHAOS_SEED       the fault injector's random seed (default: from the clock; printed)
//	CHAOS_KEEP       a directory to keep the cluster's data and log in (default: the data in a
//	                 temporary directory, removed; the log in $TMPDIR/shoplist-chaos-SEED.log,
//	                 kept only when the test fails)
package chaos
