// Command bench is the shoplist load benchmark (package loadgen; run bench -h).
package main

import (
	"context"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"shoplist/cluster/launcher"
	"shoplist/internal/runtimecfg"
	"shoplist/testing/loadgen"
)

func main() {
	if ran, code := launcher.RunChild(); ran {
		os.Exit(code)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopHeadroom := runtimecfg.KeepHeadroom(ctx)
	code := loadgen.Main(ctx, os.Args[1:], os.Stdout, os.Stderr, launch)
	stopHeadroom()
	stop()
	os.Exit(code)
}

// launch starts a cluster on free loopback ports, so that it never collides
// with a running service.
func launch(ctx context.Context, spec loadgen.ClusterSpec) (string, func() error, error) {
	var proxyArgs []string
	if spec.Preloading {
		proxyArgs = []string{"--new-lists-per-minute", "0"}
	}
	c, err := launcher.Launch(ctx, launcher.Config{Data: spec.Dir, Servers: spec.Servers, Listen: "127.0.0.1:0",
		InsecureBackend: spec.InsecureBackend, InsecureClients: spec.InsecureClients, Proxies: spec.Proxies, ProxyArgs: proxyArgs, Stderr: spec.Logs})
	if err != nil {
		return "", nil, err
	}
	return strings.Join(c.ClientEndpoints(), ","), c.Close, nil
}
