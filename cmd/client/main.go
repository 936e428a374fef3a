// Command client is the shoplist client role.
//
// The role itself is built by the local-first client issue; until then this binary says so and
// exits non-zero rather than pretending to work.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "client: not built yet (arrives with the local-first client issue); the core libraries are crdt, hashring, protocol and storage")
	os.Exit(2)
}
