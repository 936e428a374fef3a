// Package replica is a client's durable local copy of its shopping lists.
//
// # Layout
//
//	<dir>/replica-id        the client's persistent replica ID (a UUID), made on first use
//	<dir>/lock              flock(2) target, held for the length of one read-modify-write; its
//	                        first 8 bytes count the writes, so readers notice other processes
//	<dir>/lists/<list ID>   one record per list: its CRDT state and its sync bookkeeping
//	<dir>/corrupt/          records that failed to decode, moved aside with a timestamp
//
// # Several processes, one directory
//
// A terminal UI and command-line edits may use the same directory at once.
// Every change takes the directory lock, reads the list's record from disk,
// applies the change and writes the record back atomically (temporary file,
// fsync, rename, fsync of the directory) before it releases the lock. So a
// write by one process is never overwritten by another, and every edit is
// durable before the call returns — before anything is sent on the network.
// All processes share the replica ID; because each edit starts from the
// state on disk and moves the clock past every stamp in it, their edits are
// ordered as if one process had made them.
//
// # Unpushed changes
//
// Each record keeps the parts of the list (the name, and each item by key)
// edited locally and not yet acknowledged by the cluster, each with the
// number of the edit that last touched it. Unpushed builds a delta of those
// parts and a token of their edit numbers; Pushed clears only the parts not
// edited again since, so an edit made while a push is in flight is pushed
// again. Merging a remote state never marks anything unpushed: the cluster
// already has it.
package replica
