// Command service starts a shoplist cluster: one proxy and --servers storage
// servers, each its own OS process (this binary, re-executed in a role), with
// their data under --data. It prints "ready: clients connect to
// tcp://HOST:PORT" once every server is in the proxy's ring, and stops every
// child on SIGINT or SIGTERM. A server that dies later is logged and the
// cluster keeps running; the proxy dying stops the service with exit status 1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"shoplist/cluster"
)

func main() {
	if ran, code := cluster.RunChild(); ran {
		os.Exit(code)
	}
	cfg := cluster.Config{Stderr: os.Stderr}
	fs := flag.NewFlagSet("service", flag.ContinueOnError)
	fs.StringVar(&cfg.Data, "data", "./data", "data `directory`: data/proxy/ and data/server-<id>/")
	fs.IntVar(&cfg.Servers, "servers", cluster.DefaultServers, "number of storage servers (at least: every server already in --data is restarted)")
	fs.StringVar(&cfg.Listen, "listen", cluster.DefaultListen, "the proxy's client `HOST:PORT` (PUB, backend and Raft use PORT+1, PORT+2, PORT+3; port 0 = free ports)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	if fs.NArg() > 0 || cfg.Servers < 1 {
		fmt.Fprintln(os.Stderr, "usage: service [--data DIR] [--servers N>=1] [--listen HOST:PORT]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := cluster.Serve(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "service:", err)
		stop()
		os.Exit(1)
	}
}
