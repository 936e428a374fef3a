// Command proxy runs a shoplist proxy: it routes clients' list requests to
// the storage servers that own each list and publishes live updates. Run
// `proxy -h` for its flags.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"shoplist/cluster/proxynode"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := proxynode.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
