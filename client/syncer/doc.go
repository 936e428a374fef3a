// Package syncer keeps a client's local replica in sync with the cluster.
//
// An Engine runs in the background of the TUI and the command line. Edits are
// made to the replica (package replica) first, durably, and never wait on the
// network; the engine then ships them: it connects a DEALER to a proxy
// (Hello → Welcome), pushes the unpushed parts of every list, pulls every
// local list and merges the answer (never overwriting a local edit; a list
// with nothing unpushed is pulled naming its state by its hash, and an
// Unchanged answer means there is nothing to merge),
// subscribes a SUB socket to the PUB endpoint the proxy advertises, and
// merges live updates as they arrive.
//
// # Goroutines and sockets
//
// One goroutine (the loop, loop.go) owns the DEALER and the SUB and runs a
// poll loop; it also does the replica I/O for what the network brings. Other
// goroutines (Kick, Join, WaitSynced) reach it through a command channel and
// an inproc doorbell (package doorbell). A third goroutine delivers events
// (events.go), so a slow reader never holds up the loop.
//
// # Connection
//
// Lazy Pirate (conn.go): the loop sends Hello after Heartbeat of silence; a
// proxy silent for three intervals, or a request unanswered within Timeout,
// is given up: both sockets are closed (a fresh DEALER next time, so stale
// replies cannot confuse it), and after a back-off (100 ms doubling, jittered,
// capped at MaxBackoff) the next endpoint is tried. Endpoints a Welcome lists
// are added after the configured ones. When the connection comes back,
// everything pending syncs without any call from the user. The DEALER's
// set-up, its request IDs and the check of a Welcome are package dealer's,
// shared with the other clients of a proxy.
package syncer
