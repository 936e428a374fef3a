package admin

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"shoplist/cluster/proxy"
	"shoplist/internal/curvekey"
)

func TestAdmitAndRevokeCommands(t *testing.T) {
	ctx := testContext(t)
	g := newGroup(t)
	p := single(t, g)
	keyDir := curvekey.DirIn(t.TempDir())
	pair, _, err := curvekey.LoadOrCreate(keyDir, "server")
	must(t, err)
	other, err := curvekey.Generate()
	must(t, err)
	admin, creds := "--admin="+p.srv.Addr(), "--credentials="+g.dir // an operator's
	cases := []struct {
		cmd  func(ctx context.Context, args []string, stdout, stderr io.Writer) int // nil: AdmitMain
		args []string
		code int
		out  string // in stdout (code 0) or stderr
	}{
		{nil, []string{"--id", "s6", "--key", "@" + curvekey.PublicPath(keyDir, "server"), admin, creds}, 0, "s6 admitted with key " + pair.Public},
		{nil, []string{"--id", "s6", "--key", pair.Public, admin, creds}, 0, "s6 admitted"}, // again: no change
		{nil, []string{"--id", "s7", "--key", pair.Public, admin, creds}, 1, "admitted for s6"},
		{nil, []string{"--id", "s7", "--key", "nonsense", admin, creds}, 2, "not a Z85 CURVE key"},
		{nil, []string{"--id", "s7", "--key", "@" + keyDir + "/missing.pub", admin, creds}, 2, "missing.pub"},
		{nil, []string{"--id", "s7", admin, creds}, 2, "give --id and --key"},
		{nil, []string{"--id", "s7", "--key", other.Public, "--admin", closedAddr(t) + "," + p.srv.Addr(), creds}, 0, "s7 admitted"},
		{RevokeMain, []string{"--id", "s7", admin, creds}, 0, "s7's admission revoked"},
		{RevokeMain, []string{"--id", "s7", admin, creds}, 1, "not admitted: s7"},
		{RevokeMain, []string{admin, creds}, 2, "give --id"},
		{RevokeMain, []string{"--id", "s6", admin, "--credentials", t.TempDir()}, 1, "has no ca.pem"},
	}
	for _, c := range cases {
		var out, errOut bytes.Buffer
		var code int
		if c.cmd == nil {
			code = AdmitMain(ctx, c.args, &out, &errOut)
		} else {
			code = c.cmd(ctx, c.args, &out, &errOut)
		}
		text := errOut.String()
		if c.code == 0 {
			text = out.String()
		}
		if code != c.code || !strings.Contains(text, c.out) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %d with %q", c.args, code, out.String(), errOut.String(), c.code, c.out)
		}
	}
	if v := p.node.View(); !v.Admitted.Admits("s6", pair.Public) || v.Admitted.Len() != 1 {
		t.Fatalf("after the commands: admitted %v", v.Admitted.IDs())
	}

	// The status shows who is admitted, and which members are not.
	p.srv.Attach(&fakeProxy{status: proxy.Status{
		Endpoints: proxy.Endpoints{Backend: "tcp://127.0.0.1:5557", BackendKey: other.Public},
		Servers:   []proxy.ServerStatus{{ID: "s1", State: "active"}, {ID: "s6"}},
		Counters: proxy.Counters{HandshakesAdmitted: 4, HandshakesRefused: 2, NotAdmitted: 1,
			MemoryHeld: 3 << 20, MemoryLimit: 256 << 20, Clients: 7, MemoryRefused: 12, NewListsRefused: 5},
	}})
	var out, errOut bytes.Buffer
	if code := StatusMain(ctx, []string{admin, creds}, &out, &errOut); code != 0 {
		t.Fatalf("status: exit %d, %s", code, errOut.String())
	}
	for _, want := range []string{
		"admitted: 1 servers",
		"s6 " + pair.Public, // with its spaces squeezed
		"servers are given tcp://127.0.0.1:5557#" + other.Public,
		"4 handshakes admitted, 2 refused",
		"memory: 3.0 MiB held of 256.0 MiB it may count, 7 client connections; 12 requests refused",
		"5 pushes refused past the cap on new lists",
	} {
		if !strings.Contains(strings.Join(strings.Fields(out.String()), " "), want) {
			t.Errorf("status lacks %q:\n%s", want, out.String())
		}
	}
	lines := strings.Split(out.String(), "\n")
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) > 2 && f[0] == "s1" && f[1] == "active" && f[2] != "no" || len(f) > 2 && f[0] == "s6" && f[2] != "yes" {
			t.Errorf("the ADMITTED column is wrong: %q", l)
		}
	}
}
