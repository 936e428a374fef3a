// Package fakeroles runs stand-ins for the proxy and server roles that the
// launcher re-executes, so that tests check the launcher, and what drives
// it, without real proxies and servers.
//
// A fake takes the launcher's flags, prints the ready lines the launcher
// waits for, writes its PID to PIDFile in its --data directory and then
// waits for signals; it binds no port. A test binary that launches fakes
// gives [Exe] as launcher.Config.Exe, and its TestMain runs [Proxy] or
// [Server] when [IsFake] says the launcher re-executed it as one:
//
//	if role := os.Getenv(launcher.RoleEnv); role != "" && fakeroles.IsFake() {
//		if role == launcher.RoleProxy {
//			os.Exit(fakeroles.Proxy(os.Args[1:]))
//		}
//		os.Exit(fakeroles.Server(os.Args[1:]))
//	}
//
// Flags of their own make a fake misbehave:
//
//	--fail MSG            print MSG on stderr and exit 1 before being ready
//	--only ID             with --fail or --never-ready: only server ID does so
//	--never-ready         never print the ready line
//
// A fake proxy's ready line has admin=--admin (default PORT+4) and its
// endpoints carry a key (ENDPOINT#KEY, a key kept in --data as a proxy
// keeps its own; the backend none with --insecure-backend, the client
// endpoints none with --insecure-clients), and it says on
// stderr whom it joins (--join). A fake server prints one ready line per
// proxy endpoint of --proxy, without the key the endpoint carries. Fake
// proxies serve no admin API: a launcher of fakes admits servers through
// an [Admissions]. Once ready, a fake waits for signals:
// SIGTERM or SIGINT makes it exit 0 (saying so on stderr), SIGUSR1 makes it
// crash with exit status 3, and SIGHUP makes it print its ready lines again
// (a server welcomed by every proxy again).
package fakeroles

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"shoplist/cluster/proxynode"
	"shoplist/internal/curvekey"
)

// ExeName is the name under which a test binary runs fake roles instead of
// the real proxy and server (see Exe).
const ExeName = "shoplist-fake-roles"

// ProxyPort is the client port a fake proxy reports when told to listen on
// port 0.
const ProxyPort = 40000

// PIDFile is the file in its --data directory where a fake writes its PID,
// so that a test can check it is gone (see PID and AssertGone).
const PIDFile = "fake.pid"

// Exe returns a link to the running test binary named ExeName: a cluster
// launched with it as launcher.Config.Exe runs fake roles.
func Exe(t testing.TB) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), ExeName)
	if err := os.Symlink(self, link); err != nil {
		t.Fatal(err)
	}
	return link
}

// IsFake reports whether this process was started through a link Exe made:
// the launcher re-executed the test binary to run a fake role.
func IsFake() bool { return filepath.Base(os.Args[0]) == ExeName }

// Proxy runs a fake proxy with args, the launcher's proxy flags, until a
// signal ends it, and returns its exit code.
func Proxy(args []string) int { return run(roleProxy, args) }

// Server runs a fake storage server with args, the launcher's server flags,
// until a signal ends it, and returns its exit code.
func Server(args []string) int { return run(roleServer, args) }

// The roles, as fakes name themselves on stderr.
const (
	roleProxy  = "proxy"
	roleServer = "server"
)

// run runs a fake role and returns its exit code.
func run(role string, args []string) int {
	fs := flag.NewFlagSet("fake "+role, flag.ContinueOnError)
	listen := fs.String("listen", "", "")
	fs.String("pub", "", "")
	fs.String("backend", "", "")
	fs.String("raft", "", "")
	admin := fs.String("admin", "", "")
	join := fs.String("join", "", "")
	data := fs.String("data", "", "")
	id := fs.String("id", "", "")
	proxyEP := fs.String("proxy", "", "")
	insecure := fs.Bool("insecure-backend", false, "")
	insecureClients := fs.Bool("insecure-clients", false, "")
	fail := fs.String("fail", "", "")
	only := fs.String("only", "", "")
	neverReady := fs.Bool("never-ready", false, "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1, syscall.SIGHUP)

	dir := *data
	mine := *only == "" || *only == *id
	var ready []string
	switch role {
	case roleProxy:
		host, port, err := net.SplitHostPort(*listen)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fake proxy:", err)
			return 2
		}
		p, _ := strconv.Atoi(port)
		if p == 0 {
			p = ProxyPort
		}
		key, _, err := curvekey.LoadOrCreate(curvekey.DirIn(dir), proxynode.KeyName) // kept across restarts, as a proxy's
		if err != nil {
			fmt.Fprintln(os.Stderr, "fake proxy:", err)
			return 1
		}
		ep := func(p int, insecure bool) string {
			e := "tcp://" + net.JoinHostPort(host, strconv.Itoa(p))
			if !insecure {
				e = curvekey.JoinEndpoint(e, key.Public)
			}
			return e
		}
		line := fmt.Sprintf("proxy ready: client=%s pub=%s backend=%s", ep(p, *insecureClients), ep(p+1, *insecureClients), ep(p+2, *insecure))
		if *admin != "" {
			line += " admin=" + *admin
		} else {
			line += " admin=" + net.JoinHostPort(host, strconv.Itoa(p+4))
		}
		ready = []string{line}
		if *join != "" {
			fmt.Fprintln(os.Stderr, "fake proxy: joining", *join)
		}
	case roleServer:
		for _, ep := range strings.Split(*proxyEP, ",") {
			plain, key, err := curvekey.SplitEndpoint(ep)
			if err != nil || (key == "") != *insecure {
				fmt.Fprintf(os.Stderr, "fake server: --proxy %q: want ENDPOINT#KEY (or no key with --insecure-backend): %v\n", ep, err)
				return 2
			}
			ready = append(ready, fmt.Sprintf("server ready: id=%s proxy=%s epoch=1", *id, plain))
		}
	}
	if err := os.WriteFile(filepath.Join(dir, PIDFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "fake", role+":", err)
		return 1
	}
	if *fail != "" && mine {
		fmt.Fprintln(os.Stderr, "fake", role+":", *fail)
		return 1
	}
	say := func() {
		for _, line := range ready {
			fmt.Println(line)
		}
	}
	if !*neverReady || !mine {
		say()
	}
	for sig := range signals {
		switch sig {
		case syscall.SIGHUP:
			say()
		case syscall.SIGUSR1:
			fmt.Fprintln(os.Stderr, "fake", role+": crashing")
			return 3
		default:
			fmt.Fprintln(os.Stderr, "fake", role+": stopping on", sig)
			return 0
		}
	}
	return 0
}
