package launcher

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"shoplist/cluster/groupca"
	"shoplist/testing/fakeroles"
)

// Launcher tests of a group of three (fake) proxies. Fakes bind nothing, so
// fixed ports are safe here and make every address predictable: proxy i
// listens on 41000+10*i and its admin API on 41004+10*i.

const fakeGroupListen = "127.0.0.1:41000"

func TestLaunchThreeProxiesJoinsThemAndConnectsServersToAll(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	stderr := fakeroles.NewOutput()
	c, err := launchFakes(t, Config{Data: data, Servers: 2, Proxies: 3, Listen: fakeGroupListen, Stderr: stderr})
	must(t, err)
	want := []string{withKey(t, proxyDir(data, 0), "tcp://127.0.0.1:41000"), withKey(t, proxyDir(data, 1), "tcp://127.0.0.1:41010"), withKey(t, proxyDir(data, 2), "tcp://127.0.0.1:41020")}
	if got := c.ClientEndpoints(); !slices.Equal(got, want) {
		t.Errorf("ClientEndpoints = %v, want %v", got, want)
	}
	for i, p := range c.Proxies() {
		if p.Index != i || !p.Running || p.Dir != proxyDir(data, i) || p.PID != fakeroles.PID(t, p.Dir) {
			t.Errorf("proxy %d: %+v", i, p)
		}
		if wantAdmin := []string{"127.0.0.1:41004", "127.0.0.1:41014", "127.0.0.1:41024"}[i]; p.Admin != wantAdmin {
			t.Errorf("proxy %d admin %q, want %q", i, p.Admin, wantAdmin)
		}
	}
	// Each proxy but proxy 0 was given credentials of proxy 0's group
	// before it started.
	group := checkIssued(t, data, 3)
	// Proxy 0 bootstraps; the others join it.
	stderr.WaitFor(t, "[proxy-1] fake proxy: joining 127.0.0.1:41004\n")
	stderr.WaitFor(t, "[proxy-2] fake proxy: joining 127.0.0.1:41004\n")
	if strings.Contains(stderr.String(), "[proxy] fake proxy: joining") {
		t.Errorf("proxy 0 joined someone:\n%s", stderr)
	}
	// Every server was given every backend, and Launch waited for all.
	for _, s := range c.Servers() {
		for _, ep := range []string{"41002", "41012", "41022"} {
			stderr.WaitFor(t, "[server-"+s.ID+"] server ready: id="+s.ID+" proxy=tcp://127.0.0.1:"+ep)
		}
	}

	// A restarted proxy gets its old addresses and joins through the
	// others; Restart waits until every server is welcomed by it again.
	old := c.Proxies()[1]
	must(t, c.Signal(ProxyName(1), syscall.SIGKILL))
	if c.Proxies()[1].Running {
		t.Fatal("proxy 1 running after SIGKILL")
	}
	started := make(chan error, 1)
	go func() { started <- c.Restart(context.Background(), ProxyName(1)) }()
	stderr.WaitFor(t, "[proxy-1] fake proxy: joining 127.0.0.1:41004,127.0.0.1:41024\n")
	stderr.WaitForCount(t, "[proxy-1] proxy ready: client=tcp://127.0.0.1:41010", 2)
	select {
	case err := <-started:
		t.Fatalf("Restart returned (%v) before the servers were welcomed again", err)
	default:
	}
	for _, s := range c.Servers() {
		must(t, syscall.Kill(s.PID, syscall.SIGHUP))
	}
	must(t, <-started)
	if now := c.Proxies()[1]; now.PID == old.PID || now.Endpoints != old.Endpoints || now.Admin != old.Admin {
		t.Errorf("after the restart proxy 1 is %+v, was %+v", now, old)
	}
	if err := c.Restart(context.Background(), ProxyName(1)); !errors.Is(err, ErrRunning) {
		t.Errorf("Restart of a running proxy: %v, want ErrRunning", err)
	}
	if err := c.Signal(ProxyName(3), syscall.SIGKILL); !errors.Is(err, ErrUnknownProxy) {
		t.Errorf("SIGKILL to proxy-3 of 3 proxies: %v, want ErrUnknownProxy", err)
	}
	must(t, c.Close())
	if again := checkIssued(t, data, 3); again != group {
		t.Errorf("the group's CA is %q after the restart of proxy 1, was %q", again, group)
	}
}

// checkIssued checks that proxy 0 of n under data holds the group's CA and
// operator credentials and every other proxy node credentials of that
// group without the CA's key, every file mode 0600; it returns the
// group's name.
func checkIssued(t *testing.T, data string, n int) string {
	t.Helper()
	founder := groupca.DirIn(proxyDir(data, 0))
	ca, err := groupca.LoadCA(founder)
	must(t, err)
	if _, err := groupca.Load(founder, groupca.RoleOperator); err != nil {
		t.Errorf("proxy 0's operator credentials: %v", err)
	}
	for i := 1; i < n; i++ {
		dir := groupca.DirIn(proxyDir(data, i))
		creds, err := groupca.Load(dir, groupca.RoleNode)
		must(t, err)
		if creds.Group() != ca.Name() {
			t.Errorf("proxy %d holds credentials of %q, want %q", i, creds.Group(), ca.Name())
		}
		entries, err := os.ReadDir(dir)
		must(t, err)
		for _, e := range entries {
			info, err := e.Info()
			must(t, err)
			if e.Name() == groupca.CAKeyFile || info.Mode().Perm() != 0o600 {
				t.Errorf("proxy %d: %s, mode %v", i, e.Name(), info.Mode().Perm())
			}
		}
	}
	return ca.Name()
}

func TestLaunchRestartsAGroupAllAtOnce(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	c, err := launchFakes(t, Config{Data: data, Servers: 1, Proxies: 3, Listen: fakeGroupListen})
	must(t, err)
	must(t, c.Close())
	group := checkIssued(t, data, 3)
	// As a real proxy 0 leaves Raft state behind.
	must(t, os.Mkdir(filepath.Join(data, "proxy", "raft"), 0o755))

	// The directories say three proxies, whatever Proxies says; each of
	// the others is told every peer.
	stderr := fakeroles.NewOutput()
	c, err = launchFakes(t, Config{Data: data, Servers: 1, Listen: fakeGroupListen, Stderr: stderr})
	must(t, err)
	if n := len(c.Proxies()); n != 3 {
		t.Fatalf("%d proxies restarted, want the 3 found", n)
	}
	stderr.WaitFor(t, "[proxy-1] fake proxy: joining 127.0.0.1:41004,127.0.0.1:41024\n")
	stderr.WaitFor(t, "[proxy-2] fake proxy: joining 127.0.0.1:41004,127.0.0.1:41014\n")
	must(t, c.Close())
	if strings.Contains(stderr.String(), "[proxy] fake proxy: joining") {
		t.Errorf("proxy 0 joined someone:\n%s", stderr)
	}
	if again := checkIssued(t, data, 3); again != group {
		t.Errorf("the group's CA is %q after the restart, was %q", again, group)
	}
	// Never two.
	if _, err := launchFakes(t, Config{Data: t.TempDir(), Proxies: 2}); !errors.Is(err, ErrConfig) {
		t.Errorf("two proxies: %v, want ErrConfig", err)
	}
	// A group's Raft configuration records its ports: free ones would not do.
	if _, err := launchFakes(t, Config{Data: data, Servers: 1, Listen: "127.0.0.1:0"}); !errors.Is(err, ErrConfig) {
		t.Errorf("restarting a group on port 0: %v, want ErrConfig", err)
	}
	// A proxy holding another group's credentials is not started.
	other := filepath.Join(t.TempDir(), "credentials")
	_, err = groupca.Create(other)
	must(t, err)
	must(t, os.RemoveAll(groupca.DirIn(proxyDir(data, 2))))
	must(t, os.Rename(other, groupca.DirIn(proxyDir(data, 2))))
	if _, err := launchFakes(t, Config{Data: data, Servers: 1, Listen: fakeGroupListen}); !errors.Is(err, ErrConfig) {
		t.Errorf("proxy 2 with another group's credentials: %v, want ErrConfig", err)
	}
}

func TestAddServerStartsANewMemberInItsOwnDirectory(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	c, err := launchFakes(t, Config{Data: data, Servers: 2})
	must(t, err)
	before := serverIDs(c)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	id, err := c.AddServer(ctx)
	must(t, err)
	if slices.Contains(before, id) {
		t.Fatalf("AddServer reused ID %s", id)
	}
	s := serverInfo(t, c, id)
	if s.Dir != filepath.Join(data, "server-"+id) || !s.Running || s.PID != fakeroles.PID(t, s.Dir) {
		t.Errorf("new server %+v", s)
	}
	if got := serverIDs(c); len(got) != 3 || !slices.IsSorted(got) {
		t.Errorf("servers after AddServer: %v, want 3 sorted", got)
	}
}

func TestServeWithThreeProxiesKeepsRunningUntilTheLastProxyDies(t *testing.T) {
	t.Parallel()
	cfg := Config{Data: t.TempDir(), Servers: 1, Proxies: 3, Listen: fakeGroupListen, Exe: fakeroles.Exe(t),
		Admit: fakeroles.NewAdmissions().Admit, Stderr: fakeroles.NewOutput()}
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{data: cfg.Data, stdout: fakeroles.NewOutput(), stderr: cfg.Stderr.(*fakeroles.Output), stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.err = Serve(ctx, cfg, s.stdout)
	}()
	t.Cleanup(func() {
		cancel()
		s.wait()
	})
	s.stdout.WaitFor(t, "\n")
	want := "ready: clients connect to " + withKey(t, proxyDir(s.data, 0), "tcp://127.0.0.1:41000") + "," +
		withKey(t, proxyDir(s.data, 1), "tcp://127.0.0.1:41010") + "," + withKey(t, proxyDir(s.data, 2), "tcp://127.0.0.1:41020") + "\n"
	if got := s.stdout.String(); got != want {
		t.Fatalf("stdout %q, want %q", got, want)
	}
	must(t, syscall.Kill(fakeroles.PID(t, proxyDir(s.data, 0)), syscall.SIGUSR1))
	s.stderr.WaitFor(t, "the cluster keeps running with 2 of 3 proxies")
	must(t, syscall.Kill(fakeroles.PID(t, proxyDir(s.data, 2)), syscall.SIGUSR1))
	s.stderr.WaitFor(t, "the cluster keeps running with 1 of 3 proxies")
	must(t, syscall.Kill(fakeroles.PID(t, proxyDir(s.data, 1)), syscall.SIGUSR1))
	var ce *ChildError
	if err := s.wait(); !errors.As(err, &ce) || ce.Child != "proxy-1" {
		t.Fatalf("Serve after every proxy died: %v, want a *ChildError naming proxy-1", err)
	}
}
