package proxynode

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"shoplist/cluster/membership"
	"shoplist/cluster/proxy"
)

func TestRaftAddressDefaultsToPortPlusThree(t *testing.T) {
	for listen, want := range map[string]string{
		"127.0.0.1:5555":  "127.0.0.1:5558",
		"127.0.0.1:0":     "127.0.0.1:0",
		"0.0.0.0:5555":    "127.0.0.1:5558",
		"*:5555":          "127.0.0.1:5558",
		"[::1]:6000":      "[::1]:6003",
		"127.0.0.1:65533": "",
		"nonsense":        "",
	} {
		got, err := portFrom(listen, raftOffset, "Raft", "--raft")
		if got != want || (want == "") != (err != nil) {
			t.Errorf("portFrom(%q, raft) = %q, %v; want %q", listen, got, err, want)
		}
	}
}

func TestAdminAddressDefaultsToLoopbackPortPlusFour(t *testing.T) {
	for listen, want := range map[string]string{
		"127.0.0.1:5555":  "127.0.0.1:5559",
		"127.0.0.1:5565":  "127.0.0.1:5569",
		"127.0.0.1:0":     "127.0.0.1:0",
		"0.0.0.0:5555":    "127.0.0.1:5559",
		"10.1.2.3:5555":   "127.0.0.1:5559",
		"shop.example:80": "127.0.0.1:84",
		"[::1]:6000":      "[::1]:6004",
		"127.0.0.1:65531": "127.0.0.1:65535",
		"127.0.0.1:65532": "",
		"nonsense":        "",
	} {
		got, err := loopbackFrom(listen, adminOffset, "admin", "--admin")
		if got != want || (want == "") != (err != nil) {
			t.Errorf("loopbackFrom(%q, admin) = %q, %v; want %q", listen, got, err, want)
		}
	}
}

func TestZeroFlagsTurnFeaturesOff(t *testing.T) {
	if got := offIfZero(0); got >= 0 {
		t.Errorf("offIfZero(0) = %v, want negative (off): a Config's 0 means the default", got)
	}
	if got := offIfZero(3 * time.Second); got != 3*time.Second {
		t.Errorf("offIfZero(3s) = %v", got)
	}
	if got := splitList(" a:1, ,b:2,"); !slices.Equal(got, []string{"a:1", "b:2"}) {
		t.Errorf("splitList = %q", got)
	}
	if got := splitList(""); got != nil {
		t.Errorf("splitList(\"\") = %q, want nil", got)
	}
}

// fakeOpener is an opener over an in-memory Registry that records
// its options and whether Attach ran before the ready line.
type fakeOpener struct {
	opts       Options
	out        *syncBuffer
	attached   chan *proxy.Proxy
	attachErr  error
	readyFirst bool // the ready line was out when Attach ran
}

func (f *fakeOpener) open(_ context.Context, o Options) (Opened, error) {
	f.opts = o
	reg, err := membership.NewRegistry("", 4)
	if err != nil {
		return Opened{}, err
	}
	return Opened{Membership: reg, N: 3, Addr: "raft.example:1", Admin: "admin.example:2", Attach: func(p *proxy.Proxy) error {
		f.readyFirst = strings.Contains(f.out.String(), "ready")
		f.attached <- p
		return f.attachErr
	}}, nil
}

func TestMainPassesTheGroupFlagsAndAttachesBeforeReady(t *testing.T) {
	var out, errOut syncBuffer
	f := &fakeOpener{out: &out, attached: make(chan *proxy.Proxy, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0", "--join", " a:1, b:2,", "--log-level", "error"}, &out, &errOut, f.open)
	}()
	waitForOutput(t, &out, "\n")
	p := <-f.attached
	line := out.String()
	if f.readyFirst {
		t.Fatal("the ready line came before Attach")
	}
	if want := "proxy ready: " + p.Endpoints().String() + " raft=raft.example:1 admin=admin.example:2\n"; line != want {
		t.Fatalf("ready line %q, want %q", line, want)
	}
	if f.opts.Admin != "127.0.0.1:0" || f.opts.Raft != "127.0.0.1:0" || !slices.Equal(f.opts.Join, []string{"a:1", "b:2"}) {
		t.Fatalf("options %+v", f.opts)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}

	// A failing Attach stops Main before the ready line.
	out.Reset()
	f = &fakeOpener{out: &out, attached: make(chan *proxy.Proxy, 1), attachErr: errors.New("cannot record")}
	code := run(context.Background(), []string{"--listen", "127.0.0.1:0", "--admin", "127.0.0.1:7", "--log-level", "error"}, &out, &errOut, f.open)
	if code != 1 || strings.Contains(out.String(), "ready") || !strings.Contains(errOut.String(), "cannot record") {
		t.Fatalf("failing Attach: exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
	if f.opts.Admin != "127.0.0.1:7" || f.opts.Join != nil {
		t.Fatalf("options %+v", f.opts)
	}
}

// openRegistry is an opener over an in-memory Registry.
func openRegistry(_ context.Context, o Options) (Opened, error) {
	reg, err := membership.NewRegistry("", o.VNodes)
	if err != nil {
		return Opened{}, err
	}
	return Opened{Membership: reg, N: o.N}, nil
}

func TestMainReportsUsageAndBindErrors(t *testing.T) {
	var out, errOut syncBuffer
	if code := run(context.Background(), []string{"--w", "1"}, &out, &errOut, openRegistry); code != 2 ||
		!strings.Contains(errOut.String(), "must exceed N") {
		t.Fatalf("W=1: exit %d, stderr %q", code, errOut.String())
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer ln.Close()
	errOut.Reset()
	busy := ln.Addr().String()
	if code := run(context.Background(), []string{"--listen", busy}, &out, &errOut, openRegistry); code != 1 ||
		!strings.Contains(errOut.String(), "bind") || !strings.Contains(errOut.String(), "in use") {
		t.Fatalf("port in use: exit %d, stderr %q", code, errOut.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	out.Reset()
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0", "--log-level", "error"}, &out, &errOut, openRegistry)
	}()
	waitForOutput(t, &out, "proxy ready: client=tcp://127.0.0.1:")
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d after a clean stop", code)
		}
	case <-time.After(testTimeout):
		t.Fatal("Main did not stop")
	}
}

// waitForOutput waits, within testTimeout, until w has printed want.
func waitForOutput(t *testing.T, w *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !strings.Contains(w.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no output %q within %v; got %q", want, testTimeout, w.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestMemoryBudgetFlag: --memory-budget takes a size with a unit and sets
// the proxy's budget (its status shows half of what it leaves beside the
// process's footprint as the limit of what it counts); a budget under the least a proxy needs, or a negative cap on
// new lists, is a usage error.
func TestMemoryBudgetFlag(t *testing.T) {
	var out, errOut syncBuffer
	for _, args := range [][]string{{"--memory-budget", "1MiB"}, {"--memory-budget", "lots"}, {"--new-lists-per-minute", "-1"}} {
		errOut.Reset()
		code := run(context.Background(), append([]string{"--listen", "127.0.0.1:0", "--log-level", "error"}, args...), &out, &errOut, openRegistry)
		if code != 2 {
			t.Errorf("%q: exit %d (%s), want 2", args, code, errOut.String())
		}
	}
	f := &fakeOpener{out: &out, attached: make(chan *proxy.Proxy, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0", "--log-level", "error", "--memory-budget", "128MiB", "--new-lists-per-minute", "0"}, &out, &errOut, f.open)
	}()
	p := <-f.attached
	st, err := p.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Counters.MemoryLimit != 40<<20 {
		t.Fatalf("a budget of 128MiB counts up to %d bytes, want (128 − 48) / 2 = 40 MiB", st.Counters.MemoryLimit)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
}
