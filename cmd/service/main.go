// Command service starts a shoplist cluster: --proxies proxies (one Raft
// group) and --servers storage servers, each its own OS process (this
// binary, re-executed in a role), with their data under --data. It prints
// "ready: clients connect to tcp://HOST:PORT[,...]" (every proxy's client
// endpoint) once every server is in the ring of every proxy, and stops
// every child on SIGINT or SIGTERM. A server that dies later is logged and
// the cluster keeps running, and so does a proxy while another runs; the
// last proxy dying stops the service with exit status 1.
//
// `service status [--json]` prints the status of a running service (its
// Raft group, ring and servers), asked of its proxies' admin APIs with the
// operator credentials in --data.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"shoplist/cluster/launcher"
)

const usage = `usage: service [--data DIR] [--servers N>=1] [--proxies 1|3] [--listen HOST:PORT]
       service status [--json|--endpoints] [--data DIR] [--listen HOST:PORT] [--proxies N] [--admin HOST:PORT[,...]]`

func main() {
	if ran, code := launcher.RunChild(); ran {
		os.Exit(code)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 && os.Args[1] == "status" {
		code := launcher.StatusMain(ctx, os.Args[2:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	cfg := launcher.Config{Stderr: os.Stderr}
	fs := flag.NewFlagSet("service", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.Data, "data", launcher.DefaultData, "data `directory`: data/proxy/ (proxy 0, with the operator's credentials in data/proxy/credentials/), data/proxy-<i>/ and data/server-<id>/")
	fs.IntVar(&cfg.Servers, "servers", launcher.DefaultServers, "number of storage servers (at least: every server already in --data is restarted)")
	fs.IntVar(&cfg.Proxies, "proxies", launcher.DefaultProxies, "number of proxies, one Raft group: 1, or 3 to survive the loss of one (every proxy already in --data is restarted)")
	fs.StringVar(&cfg.Listen, "listen", launcher.DefaultListen, "proxy 0's client `HOST:PORT`; proxy i uses PORT+10*i, and each takes the next four ports for PUB, backend, Raft and admin (port 0 = free ports)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	if fs.NArg() > 0 || cfg.Servers < 1 || cfg.Proxies < 1 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	if cfg.Proxies%2 == 0 {
		fmt.Fprintf(os.Stderr, "service: --proxies %d: a Raft group of an even size tolerates no more failures than one proxy fewer; use 1 or 3\n", cfg.Proxies)
		os.Exit(2)
	}
	if err := launcher.Serve(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "service:", err)
		stop()
		os.Exit(1)
	}
}
