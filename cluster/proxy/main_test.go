package proxy

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
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

func TestAdminAddressDefaultsToPortPlusFour(t *testing.T) {
	for listen, want := range map[string]string{
		"127.0.0.1:5555":  "127.0.0.1:5559",
		"127.0.0.1:5565":  "127.0.0.1:5569",
		"127.0.0.1:0":     "127.0.0.1:0",
		"0.0.0.0:5555":    "127.0.0.1:5559",
		"[::1]:6000":      "[::1]:6004",
		"127.0.0.1:65531": "127.0.0.1:65535",
		"127.0.0.1:65532": "",
		"nonsense":        "",
	} {
		got, err := portFrom(listen, adminOffset, "admin", "--admin")
		if got != want || (want == "") != (err != nil) {
			t.Errorf("portFrom(%q, admin) = %q, %v; want %q", listen, got, err, want)
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

// fakeOpener is a MembershipOpener over an in-memory Registry that records
// its options and whether Attach ran before the ready line.
type fakeOpener struct {
	opts       MembershipOptions
	out        *syncBuffer
	attached   chan *Proxy
	attachErr  error
	readyFirst bool // the ready line was out when Attach ran
}

func (f *fakeOpener) open(_ context.Context, o MembershipOptions) (OpenedMembership, error) {
	f.opts = o
	reg, err := NewRegistry("", 4)
	if err != nil {
		return OpenedMembership{}, err
	}
	return OpenedMembership{Membership: reg, N: 3, Addr: "raft.example:1", Admin: "admin.example:2", Attach: func(p *Proxy) error {
		f.readyFirst = strings.Contains(f.out.String(), "ready")
		f.attached <- p
		return f.attachErr
	}}, nil
}

func TestMainPassesTheGroupFlagsAndAttachesBeforeReady(t *testing.T) {
	var out, errOut syncBuffer
	f := &fakeOpener{out: &out, attached: make(chan *Proxy, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"--listen", "127.0.0.1:0", "--join", " a:1, b:2,", "--log-level", "error"}, &out, &errOut, f.open)
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
	f = &fakeOpener{out: &out, attached: make(chan *Proxy, 1), attachErr: errors.New("cannot record")}
	code := Main(context.Background(), []string{"--listen", "127.0.0.1:0", "--admin", "127.0.0.1:7", "--log-level", "error"}, &out, &errOut, f.open)
	if code != 1 || strings.Contains(out.String(), "ready") || !strings.Contains(errOut.String(), "cannot record") {
		t.Fatalf("failing Attach: exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
	if f.opts.Admin != "127.0.0.1:7" || f.opts.Join != nil {
		t.Fatalf("options %+v", f.opts)
	}
}
