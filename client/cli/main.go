package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"shoplist/client/replica"
	"shoplist/internal/curvekey"
)

// Timeouts of the network part of a command.
const (
	// editSync is how long an edit command tries to push before it settles
	// for "saved locally".
	editSync = 2 * time.Second
	// fullSync bounds the sync command and join.
	fullSync = 10 * time.Second
)

// usage is the command line's synopsis, printed by --help.
const usage = `usage: client [--data DIR] [--proxy ENDPOINT#KEY,...] [--offline] [COMMAND [ARGS]]
  (no command)          open the terminal UI
  new NAME              create a list; print only its ID on stdout
  lists [--json]        one line per local list: ID, name, item count, remaining, sync state
  show LIST [--json]    print the list, grouped by category
  add LIST ITEM [QTY] [ITEM [QTY]]...
                        add QTY (default 1) of each ITEM ("eggs 12" is ITEM and QTY too)
  remove LIST ITEM      remove ITEM
  set LIST ITEM QTY     set the wanted quantity of ITEM to QTY
  buy LIST ITEM [QTY]   mark QTY (default: all that remains) of ITEM as bought
  unbuy LIST ITEM [QTY] take back QTY (default: all bought) of ITEM
  category LIST ITEM [CATEGORY]
                        put ITEM in CATEGORY (an aisle: dairy, bakery); none clears it
  note LIST ITEM [NOTE] set the note on ITEM; none clears it
  clear LIST            remove every item that is bought ("finish shopping")
  rename LIST NAME      rename the list
  join LIST_ID          fetch a list shared with you and keep it in sync
  sync                  push local changes and pull updates for every local list
  forget LIST [--force] delete the local copy only (the shared list is untouched)
  delete LIST --force   delete the list for everyone who shares it (each can still
                        show or export it, then forget it); without --force, say what it would do
  restore LIST          undo a delete, for everyone
  config [--json]       what the client remembers in DIR: its proxies and name
  config set proxy ENDPOINT#KEY[,...]
                        remember these proxies (as --proxy does)
  config set name NAME  sign your edits with NAME (at most 32 bytes): others see
                        "bought by NAME"

LIST is a list ID, a unique prefix of one, or the exact name of a local list.
Flags may come anywhere on the line; after -- everything is an argument.
--data defaults to $SHOPLIST_HOME, else $XDG_DATA_HOME/shoplist, else
~/.local/share/shoplist. --proxy takes comma-separated proxy endpoints,
each with the proxy's key as the service prints it (tcp://HOST:PORT#KEY),
tried in order; the client remembers them in DIR for later commands.
--offline never touches the network. The --json outputs are described in
the README ("JSON output").
`

// seeHelp ends every usage error: the one line that was wrong is said
// above it, not the whole synopsis.
const seeHelp = "see client --help for every command and flag"

// errUsage marks a wrong command line: exit code 2.
var errUsage = errors.New("usage")

// options are the global flags.
type options struct {
	data      string
	endpoints []string // from --proxy, else remembered in data
	given     bool     // --proxy was given: remember it
	offline   bool
	noProxy   bool // no endpoint known: offline, and say how to give one
	verbose   bool
}

// env is what a command runs with.
type env struct {
	ctx    context.Context
	opts   options
	store  *replica.Store
	key    curvekey.Pair // this install's, by which proxies know it
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
	flags  map[string]bool // the command's own flags given (--json, --force)

	mu      sync.Mutex     // guards dropped
	dropped []droppedItems // see noteDropped
}

// Main runs the client with args (without the program name) and returns
// its exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts, rest, err := parseGlobal(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if err == nil && len(rest) > 0 && isFlag(rest[0]) {
		err = fmt.Errorf("%w: flag provided but not defined: %s", errUsage, rest[0])
	}
	if err != nil {
		fmt.Fprintf(stderr, "client: %v\n%s\n", err, seeHelp)
		return 2
	}
	store, err := replica.Open(opts.data)
	if err != nil {
		fmt.Fprintf(stderr, "client: %v\n", err)
		return 1
	}
	defer store.Close()
	if name, err := rememberedName(opts.data); err != nil {
		// Not fatal: config set name must still be able to replace it.
		fmt.Fprintf(stderr, "client: warning: %v; edits are not signed\n", err)
	} else {
		_ = store.SetAuthor(name) // checked by rememberedName
	}
	key, err := resolveProxies(&opts)
	if err != nil {
		fmt.Fprintf(stderr, "client: %v\n", err)
		return 1
	}
	e := &env{ctx: ctx, opts: opts, store: store, key: key, stdout: stdout, stderr: stderr, log: newLogger(stderr, opts.verbose)}
	if len(rest) == 0 {
		err = e.runTUI()
	} else {
		err = e.run(rest[0], rest[1:])
	}
	e.tellDropped()
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "client: %v\n%s\n", err, seeHelp)
		return 2
	default:
		fmt.Fprintf(stderr, "client: %v\n", err)
		return 1
	}
}

// parseGlobal reads the global flags, wherever they are in args, and
// returns the rest: the command, its arguments and its own flags.
func parseGlobal(args []string) (options, []string, error) {
	var opts options
	globals, rest, err := splitArgs(args)
	if err != nil {
		return opts, nil, err
	}
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var proxy string
	fs.StringVar(&opts.data, "data", "", "the local replica's directory")
	fs.StringVar(&proxy, "proxy", "", "comma-separated proxy endpoints, each ENDPOINT#KEY")
	fs.BoolVar(&opts.offline, "offline", false, "never touch the network")
	fs.BoolVar(&opts.verbose, "v", false, "log sync activity on stderr")
	if err := fs.Parse(globals); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return opts, nil, err
		}
		return opts, nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	fs.Visit(func(f *flag.Flag) { opts.given = opts.given || f.Name == "proxy" })
	opts.endpoints = splitEndpoints(proxy)
	if opts.given && len(opts.endpoints) == 0 {
		return opts, nil, fmt.Errorf("%w: --proxy: no endpoint given", errUsage)
	}
	if err := checkPinned(opts.endpoints); err != nil {
		return opts, nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	if opts.data == "" {
		d, err := replica.DefaultDir()
		if err != nil {
			return opts, nil, err
		}
		opts.data = d
	}
	return opts, rest, nil
}

// splitEndpoints splits a comma-separated list of endpoints.
func splitEndpoints(s string) []string {
	var out []string
	for _, ep := range strings.Split(s, ",") {
		if ep = strings.TrimSpace(ep); ep != "" {
			out = append(out, ep)
		}
	}
	return out
}

// resolveProxies settles where the client syncs: the endpoints --proxy
// gave, which it remembers, or those remembered from an earlier --proxy;
// with neither it edits offline (opts.noProxy). It returns the install's
// CURVE key pair, made on first use.
func resolveProxies(opts *options) (curvekey.Pair, error) {
	key, err := installKey(opts.data)
	if err != nil {
		return key, err
	}
	switch {
	case opts.given:
		if err := rememberProxies(opts.data, opts.endpoints); err != nil {
			return key, err
		}
	case !opts.offline:
		if opts.endpoints, err = rememberedProxies(opts.data); err != nil {
			return key, err
		}
		if len(opts.endpoints) == 0 {
			opts.offline, opts.noProxy = true, true
		}
	}
	return key, nil
}

// newLogger logs sync activity to stderr with -v, and nothing otherwise.
func newLogger(w io.Writer, verbose bool) *slog.Logger {
	if !verbose {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
