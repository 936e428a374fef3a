// Package converge tells when a whole cluster has settled after faults,
// and compares what clients that sync see, for the tests that fault a
// cluster of processes (the chaos and partition tests).
//
// Wait polls the proxies' statuses until the ring is agreed, every server
// is up and placed and has reported no hint nor list to move since the
// faults ended, and the leader's anti-entropy has then compared every
// primary range once without repairing anything. SyncClient starts a
// client as a user runs it (a replica directory and a sync engine failing
// over between the proxies), joins every list and syncs; CompareClients
// and CompareWithStores judge what such clients hold against the
// writers' ledger, each other and the servers' stores.
package converge
