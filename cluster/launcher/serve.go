package launcher

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// Serve runs the service: it launches the cluster, prints "ready: clients
// connect to tcp://HOST:PORT[,tcp://HOST:PORT...]" (every proxy's client
// endpoint, comma-separated, as a client's --proxy takes them) on stdout,
// and runs until ctx ends (the service's SIGINT or SIGTERM), then stops
// every child and waits for them; it returns nil after a clean shutdown.
//
// A server that dies is reported on cfg.Stderr and the service keeps
// running: every list keeps a write and read quorum while at most one of its
// three replicas is down, and the server's data waits in its directory for
// the next start. So does a proxy of several: clients and servers fail over
// to the others, and the Raft group keeps a leader while a majority runs.
// The last proxy dying ends the service, as nothing can reach the servers
// without one: Serve stops the servers and returns the *ChildError naming
// that proxy. A server that fails to start is reported and the service
// starts without it (see Launch); a start that fails returns Launch's
// error, and one interrupted by ctx returns nil.
func Serve(ctx context.Context, cfg Config, stdout io.Writer) error {
	c, err := Launch(ctx, cfg)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	fmt.Fprintf(stdout, "ready: clients connect to %s\n", strings.Join(c.ClientEndpoints(), ","))
	for {
		died, err := c.NextExit(ctx)
		if err != nil {
			return c.Close()
		}
		if strings.HasPrefix(died.Child, proxyName) {
			proxies := c.Proxies()
			running := 0
			for _, p := range proxies {
				if p.Running {
					running++
				}
			}
			if running == 0 {
				if err := c.Close(); err != nil {
					c.note(fmt.Sprintf("stopping the servers: %v", err))
				}
				return died
			}
			c.note(fmt.Sprintf("%s (pid %d): %v; the cluster keeps running with %d of %d proxies",
				died.Child, died.PID, died.Err, running, len(proxies)))
			continue
		}
		running := 0
		for _, s := range c.Servers() {
			if s.Running {
				running++
			}
		}
		// Its stderr is already on cfg.Stderr, just above.
		c.note(fmt.Sprintf("%s (pid %d): %v; the cluster keeps running with %d of %d servers",
			died.Child, died.PID, died.Err, running, len(c.Servers())))
	}
}
