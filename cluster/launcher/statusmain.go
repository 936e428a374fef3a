package launcher

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"shoplist/cluster/admin"
	"shoplist/cluster/groupca"
)

// StatusMain runs `service status` with args (after "status"): it prints
// the status of the first of the service's proxies whose admin API answers
// (admin.StatusMain: a table, or with --json the admin API's JSON). Without
// --admin the addresses are derived as Launch lays them out: PORT+4 of
// --listen for proxy 0, PORT+10*i+4 for proxy i < --proxies. It
// authenticates with the operator credentials in proxy 0's directory under
// --data (or in --credentials). It returns the exit code: 0, 1 when no
// proxy answered or the credentials cannot be read, 2 for bad usage.
func StatusMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("service status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the status as JSON (the admin API's GET /v1/status), for scripts")
	endpoints := fs.Bool("endpoints", false, "print only what clients are given, comma-separated: every proxy's ENDPOINT#KEY (client --proxy \"$(service status --endpoints)\")")
	listen := fs.String("listen", DefaultListen, "the service's --listen: proxy 0's client `HOST:PORT`")
	proxies := fs.Int("proxies", 3, "how many proxies' admin addresses to try, derived from --listen (a service of one proxy answers at the first)")
	adminAddrs := fs.String("admin", "", "admin `HOST:PORT[,...]` to ask instead, in order")
	data := fs.String("data", DefaultData, "the service's --data `directory`: the operator credentials are in DIR/proxy/credentials")
	creds := fs.String("credentials", "", "`directory` holding ca.pem, operator.pem and operator-key.pem (default: DATA/proxy/credentials)")
	timeout := fs.Duration("timeout", 10*time.Second, "give up after this long")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: service status [--json|--endpoints] [--data DIR] [--listen HOST:PORT] [--proxies N] [--admin HOST:PORT[,...]]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "service status: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	addrs, err := statusAddrs(*adminAddrs, *listen, *proxies)
	if err != nil {
		fmt.Fprintf(stderr, "service status: %v\n", err)
		return 2
	}
	if *creds == "" {
		*creds = groupca.DirIn(proxyDir(*data, 0))
	}
	sub := []string{"--admin", strings.Join(addrs, ","), "--timeout", timeout.String(), "--credentials", *creds}
	if *asJSON {
		sub = append(sub, "--json")
	}
	if *endpoints {
		sub = append(sub, "--endpoints")
	}
	return admin.StatusMain(ctx, sub, stdout, stderr)
}

// statusAddrs returns the admin addresses to ask: those given, or those
// derived from listen for n proxies.
func statusAddrs(given, listen string, n int) ([]string, error) {
	if given != "" {
		return admin.SplitAddrs(given), nil
	}
	if n < 1 || n > maxProxies {
		return nil, fmt.Errorf("--proxies %d: want 1 to %d", n, maxProxies)
	}
	if err := checkListen(listen, n); err != nil {
		return nil, err
	}
	host, port, err := splitListen(listen)
	if err != nil {
		return nil, err
	}
	if port == 0 {
		return nil, fmt.Errorf("--listen %q: a service on free ports has no known admin address; give --admin", listen)
	}
	var out []string
	for i := range n {
		out = append(out, plannedAddrs(host, port, i).admin)
	}
	return out, nil
}
