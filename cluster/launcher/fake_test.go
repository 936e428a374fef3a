package launcher

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
)

// fakeExeName is the name under which the launcher re-executes this test
// binary to run fake roles instead of the real proxy and server (see
// fakeExe), so that the launcher is tested on its own: start order,
// readiness, failures, signals.
const fakeExeName = "shoplist-fake-roles"

// fakeProxyPort is the client port a fake proxy reports when told to listen
// on port 0.
const fakeProxyPort = 40000

// pidFile is the file in its directory where a fake child writes its PID,
// so that a test can check it is gone.
const pidFile = "fake.pid"

// fakeExe returns a link to this test binary named fakeExeName: a cluster
// launched with it as Config.Exe runs fake roles.
func fakeExe(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), fakeExeName)
	if err := os.Symlink(self, link); err != nil {
		t.Fatal(err)
	}
	return link
}

// runFake runs a fake role and returns its exit code. Both roles take the
// launcher's flags and some of their own; each writes its PID to pidFile in
// its --data directory.
//
//	--fail MSG            print MSG on stderr and exit 1 before being ready
//	--only ID             with --fail or --never-ready: only server ID does so
//	--never-ready         never print the ready line
//
// A fake proxy's ready line has admin=--admin (default PORT+4), and it
// says on stderr whom it joins (--join). A fake server prints one ready line
// per proxy endpoint of --proxy. Once ready, a fake waits for signals:
// SIGTERM or SIGINT makes it exit 0 (saying so on stderr), SIGUSR1 makes it
// crash with exit status 3, and SIGHUP makes it print its ready lines again
// (a server welcomed by every proxy again).
func runFake(role string, args []string) int {
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
	case RoleProxy:
		host, port, err := net.SplitHostPort(*listen)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fake proxy:", err)
			return 2
		}
		p, _ := strconv.Atoi(port)
		if p == 0 {
			p = fakeProxyPort
		}
		ep := func(p int) string { return "tcp://" + net.JoinHostPort(host, strconv.Itoa(p)) }
		line := fmt.Sprintf("proxy ready: client=%s pub=%s backend=%s", ep(p), ep(p+1), ep(p+2))
		if *admin != "" {
			line += " admin=" + *admin
		} else {
			line += " admin=" + net.JoinHostPort(host, strconv.Itoa(p+4))
		}
		ready = []string{line}
		if *join != "" {
			fmt.Fprintln(os.Stderr, "fake proxy: joining", *join)
		}
	case RoleServer:
		for _, ep := range strings.Split(*proxyEP, ",") {
			ready = append(ready, fmt.Sprintf("server ready: id=%s proxy=%s epoch=1", *id, ep))
		}
	}
	if err := os.WriteFile(filepath.Join(dir, pidFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
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
