package admin

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"shoplist/cluster/groupca"
)

// DefaultAddr is the admin address of a proxy started with the default
// --listen (127.0.0.1:5555): PORT+4.
const DefaultAddr = "127.0.0.1:5559"

// DefaultData is the data directory of the proxy that founded the group
// when `service` (and `make run`) run from the repository's root with
// their default --data: its operator credentials are in
// DefaultData/credentials.
const DefaultData = "data/proxy"

// credentialFlags adds --data and --credentials to fs and returns what
// makes a Client with the operator credentials they name.
func credentialFlags(fs *flag.FlagSet) func() (*Client, error) {
	data := fs.String("data", DefaultData, "data `directory` of the proxy that founded the group: the operator credentials are in DIR/credentials")
	dir := fs.String("credentials", "", "`directory` holding ca.pem, operator.pem and operator-key.pem (default: DATA/credentials)")
	return func() (*Client, error) {
		d := *dir
		if d == "" {
			d = groupca.DirIn(*data)
		}
		creds, err := LoadOperator(d)
		if err != nil {
			return nil, err
		}
		return NewClient(creds), nil
	}
}

// LoadOperator loads the operator credentials in dir, with an error that
// says where they come from.
func LoadOperator(dir string) (*groupca.Credentials, error) {
	creds, err := groupca.Load(dir, groupca.RoleOperator)
	if err != nil {
		return nil, fmt.Errorf("operator credentials: %w (the proxy that founds a group writes them into DATA/credentials; "+
			"give --data DATA or --credentials DIR, or have `proxy issue --operator` write a set)", err)
	}
	return creds, nil
}

// Defaults of the subcommands' --timeout.
const (
	defaultStatusTimeout = 10 * time.Second
	defaultRemoveTimeout = 30 * time.Second
)

// SplitAddrs splits a comma-separated list of addresses, dropping empty
// items and surrounding spaces.
func SplitAddrs(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// FirstStatus returns the status of the first of addrs that answers, in
// order; if none does, the errors of all.
func (c *Client) FirstStatus(ctx context.Context, addrs []string) (Status, error) {
	var errs []error
	for _, a := range addrs {
		st, err := c.Status(ctx, a)
		if err == nil {
			return st, nil
		}
		errs = append(errs, fromAddr(a, err))
		if ctx.Err() != nil {
			break
		}
	}
	if len(errs) == 0 {
		return Status{}, fmt.Errorf("%w: no admin address given", ErrBadRequest)
	}
	return Status{}, errors.Join(errs...)
}

// noneListening reports whether err, from FirstStatus, says only that
// nothing accepted a connection at any address.
func noneListening(err error) bool {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var op *net.OpError
		if !errors.As(e, &op) || op.Op != "dial" {
			return false
		}
	}
	return len(errs) > 0
}

// StatusMain runs `proxy status [--admin ADDR[,ADDR...]] [--json]` with
// args (after "status"): it prints the status of the first proxy that
// answers, as a table or, with --json, as the Status JSON. It returns the
// exit code: 0, 1 if no proxy answered, 2 for bad usage.
func StatusMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("proxy status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addrs := fs.String("admin", DefaultAddr, "admin `ADDR[,ADDR...]` of the proxies to ask, in order, until one answers")
	asJSON := fs.Bool("json", false, "print the status as JSON, for scripts")
	endpoints := fs.Bool("endpoints", false, "print only what clients are given: every proxy's client endpoint with its key (ENDPOINT#KEY), comma-separated, as `client --proxy` takes it")
	timeout := fs.Duration("timeout", defaultStatusTimeout, "give up after this long")
	client := credentialFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: proxy status [flags]")
		fs.PrintDefaults()
	}
	if code, ok := parse(fs, args, 0); !ok {
		return code
	}
	c, err := client()
	if err != nil {
		fmt.Fprintf(stderr, "proxy status: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	st, err := c.FirstStatus(ctx, SplitAddrs(*addrs))
	if err != nil && noneListening(err) {
		fmt.Fprintf(stderr, "proxy status: no proxy answers at %s; is the service running?\n", strings.Join(SplitAddrs(*addrs), ", "))
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "proxy status: %v\n", err)
		return 1
	}
	if *endpoints {
		if st.Proxy == nil || len(st.Proxy.Proxies) == 0 {
			fmt.Fprintln(stderr, "proxy status: the proxy reports no client endpoint")
			return 1
		}
		fmt.Fprintln(stdout, strings.Join(st.Proxy.Proxies, ","))
		return 0
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(st); err != nil {
			fmt.Fprintf(stderr, "proxy status: %v\n", err)
			return 1
		}
		return 0
	}
	if err := WriteStatus(stdout, st); err != nil {
		fmt.Fprintf(stderr, "proxy status: %v\n", err)
		return 1
	}
	return 0
}

// RemoveMain runs `proxy remove SERVER_ID [--admin ADDR[,ADDR...]]
// [--force]` with args (after "remove"). Without --force the server is
// marked leaving: it hands its lists to their owners, and the leader
// removes it once it holds none. With --force it is removed at once. It
// returns once that change is committed: 0, 1 on failure, 2 for bad usage.
func RemoveMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("proxy remove", flag.ContinueOnError)
	fs.SetOutput(stderr)
	force := fs.Bool("force", false, "remove the server now, without handing its lists over (for a server that is gone for good)")
	run := adminFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: proxy remove SERVER_ID [flags]")
		fs.PrintDefaults()
	}
	// The server ID may come before or after the flags.
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if code, ok := parse(fs, args, 1); !ok {
		return code
	}
	if fs.NArg() == 1 {
		if id != "" {
			fmt.Fprintf(stderr, "proxy remove: unexpected argument %q\n", fs.Arg(0))
			return 2
		}
		id = fs.Arg(0)
	}
	if id == "" {
		fmt.Fprintln(stderr, "proxy remove: which server? give its ID")
		fs.Usage()
		return 2
	}
	return run(ctx, "proxy remove "+id, stdout, stderr, func(ctx context.Context, c *Client, addr string) (string, error) {
		reply, err := c.Remove(ctx, addr, id, *force)
		switch {
		case err != nil:
			return "", err
		case reply.Action == "remove":
			return fmt.Sprintf("%s removed from the ring\n", id), nil
		}
		return fmt.Sprintf("%s is leaving: it hands its lists to their new owners, and the leader removes it once it holds none\n", id), nil
	})
}

// fromAddr names the proxy that answered an error; a transport error names
// its URL already.
func fromAddr(addr string, err error) error {
	var remote *RemoteError
	if errors.As(err, &remote) {
		return fmt.Errorf("the proxy at %s answered: %w", addr, err)
	}
	return err
}

// parse parses args into fs, allowing at most maxArgs positional
// arguments. ok is false when the command should stop with code.
func parse(fs *flag.FlagSet, args []string, maxArgs int) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	if fs.NArg() > maxArgs {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(maxArgs))
		fs.Usage()
		return 2, false
	}
	return 0, true
}
