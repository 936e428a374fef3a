// Command bench is the shoplist load benchmark (package loadgen; run bench -h).
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"shoplist/cluster/launcher"
	"shoplist/testing/loadgen"
)

func main() {
	if ran, code := launcher.RunChild(); ran {
		os.Exit(code)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := loadgen.Main(ctx, os.Args[1:], os.Stdout, os.Stderr, launch)
	stop()
	os.Exit(code)
}

// launch starts a cluster on free loopback ports, so that it never collides
// with a running service.
func launch(ctx context.Context, dir string, servers int, logs io.Writer) (string, func() error, error) {
	c, err := launcher.Launch(ctx, launcher.Config{Data: dir, Servers: servers, Listen: "127.0.0.1:0", Stderr: logs})
	if err != nil {
		return "", nil, err
	}
	return c.ClientEndpoint(), c.Close, nil
}
