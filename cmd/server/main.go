// Command server is a shoplist storage server: it merges the lists the proxy
// sends it into its durable store and answers fetches. See package server.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"shoplist/cluster/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := server.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
