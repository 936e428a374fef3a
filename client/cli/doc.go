// Package cli is the client's command line: it parses the arguments of
// cmd/client, runs one command against the local replica and the cluster,
// or opens the terminal UI when no command is given.
//
// Every edit is saved to the local replica first, durably; then the command
// tries for about two seconds to push it. If the cluster cannot be reached it
// says "saved locally; will sync when online" on stderr and still exits 0:
// the edit is safe and the next sync (or any running client on the same data
// directory) ships it.
//
// Exit codes: 0 success; 1 the command failed (the message says why, on one
// line of stderr); 2 the command line itself is wrong.
package cli
