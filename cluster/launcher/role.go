package launcher

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"shoplist/cluster/proxynode"
	"shoplist/cluster/server"
)

// RoleEnv is the environment variable that makes a re-executed binary run a
// role instead of its own main: RoleProxy or RoleServer.
const RoleEnv = "SHOPLIST_ROLE"

// Role names, the values of RoleEnv.
const (
	RoleProxy  = "proxy"
	RoleServer = "server"
)

// RunChild runs the role named by RoleEnv, if it is set, with os.Args[1:] as
// its flags, until it finishes or SIGINT or SIGTERM asks it to stop; ran
// reports whether a role ran and code is its exit status. Every main that
// Launch may re-execute calls it first:
//
//	if ran, code := launcher.RunChild(); ran {
//		os.Exit(code)
//	}
func RunChild() (ran bool, code int) {
	role, ok := os.LookupEnv(RoleEnv)
	if !ok {
		return false, 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	switch role {
	case RoleProxy:
		return true, proxynode.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	case RoleServer:
		return true, server.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	}
	fmt.Fprintf(os.Stderr, "shoplist: %s=%q is not a role (want %s or %s)\n", RoleEnv, role, RoleProxy, RoleServer)
	return true, 2
}
