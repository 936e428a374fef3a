// Command proxy is the shoplist proxy role.
//
// The role itself is built by the data-path issue; until then this binary says so and
// exits non-zero rather than pretending to work.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "proxy: not built yet (arrives with the data-path issue); the core libraries are crdt, hashring, protocol and storage")
	os.Exit(2)
}
