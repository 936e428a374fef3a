// Command client is the shoplist client: the terminal UI when run without a
// command, and a scriptable command line otherwise (see package cli).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"shoplist/client/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
