// Package chaos holds the chaos test of a whole shoplist cluster, run by
// `make chaos` (go test -tags chaos ./testing/chaos/): three proxies and five
// storage servers as separate processes, ten writing clients for at least
// a minute while a fault injector SIGKILLs and restarts random servers and
// the leader proxy and pauses others (SIGSTOP/SIGCONT); then, with the
// faults stopped, it waits for the replicas to converge and checks that
// every acknowledged write is on all N owners of its list, that the owners'
// copies are byte-identical and that syncing clients all see the same
// lists. It prints its figures and fails on any lost write.
//
// The test is behind the build tag chaos so that `make test` does not run
// it. Environment variables tune it:
//
//	CHAOS_DURATION   how long clients write under faults (default 60s)
//	CHAOS_CONVERGE   how long convergence may take afterwards (default 5m)
//	CHAOS_SEED       the fault injector's random seed (default: from the clock; printed)
//	CHAOS_KEEP       a directory to keep the cluster's data and log in (default: a temporary one)
package chaos
