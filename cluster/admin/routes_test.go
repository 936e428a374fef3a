package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"shoplist/cluster/membership"
	"shoplist/cluster/placement"
	"shoplist/cluster/proxy"
	"shoplist/hashring"
)

// fakeProxy is a Proxy that reports a fixed status and records
// decommissions.
type fakeProxy struct {
	status proxy.Status
	mu     sync.Mutex
	gone   []string
}

func (f *fakeProxy) Status(context.Context) (proxy.Status, error) { return f.status, nil }

func (f *fakeProxy) Decommission(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gone = append(f.gone, id)
	return nil
}

func (f *fakeProxy) decommissioned() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.gone)
}

// single starts a bootstrapped proxy of g with s1, s2 and s3 in its ring.
func single(t *testing.T, g *group) *testProxy {
	t.Helper()
	p := startProxy(t, g, "p1", true)
	leaderOf(t, p)
	p.record(t, 1)
	for _, id := range []string{"s1", "s2", "s3"} {
		must(t, p.node.Join(testContext(t), id))
	}
	return p
}

func TestStatusAndRemove(t *testing.T) {
	ctx := testContext(t)
	g := newGroup(t)
	p := single(t, g)
	c := NewClient(g.operator)
	st, err := c.Status(ctx, p.srv.Addr())
	must(t, err)
	if st.Admin != p.srv.Addr() || st.Membership.ID != "p1" || st.Membership.Epoch != 4 || len(st.Membership.Members) != 3 ||
		st.Proxy != nil || st.ProxyError == "" {
		t.Fatalf("status before the proxy is attached: %+v", st)
	}
	// Not attached: a graceful removal marks the server leaving itself.
	if r, err := c.Remove(ctx, p.srv.Addr(), "s1", false); err != nil || r.Action != "leave" {
		t.Fatalf("remove s1: %+v, %v", r, err)
	}
	if v := p.node.View(); !slices.Equal(v.Leaving, []string{"s1"}) {
		t.Fatalf("leaving %v after the removal of s1", v.Leaving)
	}

	fake := &fakeProxy{status: proxy.Status{Epoch: 5, N: 3, Leader: true, Servers: []proxy.ServerStatus{
		{ID: "s2", State: "active", Up: true, Reported: true, Lists: 7, Positions: []uint64{1, 2}, Share: 0.5,
			Ranges: []hashring.Range{{Server: "s2", Start: 10, End: 20}}},
	}}}
	p.srv.Attach(fake)
	if r, err := c.Remove(ctx, p.srv.Addr(), "s2", false); err != nil || r.Action != "leave" {
		t.Fatalf("remove s2: %+v, %v", r, err)
	}
	if got := fake.decommissioned(); !slices.Equal(got, []string{"s2"}) {
		t.Fatalf("decommissioned %v, want [s2]: the proxy decides how", got)
	}
	if r, err := c.Remove(ctx, p.srv.Addr(), "s3", true); err != nil || r.Action != "remove" {
		t.Fatalf("forced removal of s3: %+v, %v", r, err)
	}
	if p.node.View().Has("s3") {
		t.Fatal("s3 still a member after a forced removal")
	}
	_, err = c.Remove(ctx, p.srv.Addr(), "s9", true)
	var remote *RemoteError
	if !errors.Is(err, placement.ErrNotMember) || !errors.As(err, &remote) || remote.Status != http.StatusNotFound {
		t.Fatalf("forced removal of a non-member: %v, want ErrNotMember with 404", err)
	}

	st, err = c.Status(ctx, p.srv.Addr())
	must(t, err)
	if st.Proxy == nil || st.Proxy.Epoch != 5 || len(st.Proxy.Servers) != 1 || st.Proxy.Servers[0].Lists != 7 ||
		!slices.Equal(st.Membership.Removed, []string{"s3"}) {
		t.Fatalf("status with the proxy attached: %+v", st)
	}

	// proxy status --json asks the addresses in turn: the first is down.
	var out, errOut bytes.Buffer
	down := closedAddr(t)
	if code := StatusMain(ctx, []string{"--admin", down + "," + p.srv.Addr(), "--json", "--credentials", g.dir}, &out, &errOut); code != 0 {
		t.Fatalf("status --json: exit %d: %s", code, errOut.String())
	}
	var decoded Status
	if err := json.Unmarshal(out.Bytes(), &decoded); err != nil {
		t.Fatalf("status --json does not decode: %v\n%s", err, out.String())
	}
	if decoded.Membership.LeaderID != "p1" || decoded.Proxy == nil || decoded.Proxy.Servers[0].Ranges[0].End != 20 ||
		decoded.Membership.Members[0] != (membership.Member{ID: "s1", State: membership.Leaving}) {
		t.Fatalf("decoded status: %+v", decoded)
	}
	out.Reset()
	if code := StatusMain(ctx, []string{"--admin", p.srv.Addr(), "--data", filepath.Dir(g.dir)}, &out, &errOut); code != 0 {
		t.Fatalf("status: exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"leader:  p1", "epoch 6, N 3, 3 virtual nodes per server, 1 active, 1 leaving, 1 removed",
		"s2", "100.0%", "owns 1 range (50.00% of the ring", "positions 0x0000000000000001 0x0000000000000002", "ranges    (0x000000000000000a, 0x0000000000000014]"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status table lacks %q:\n%s", want, out.String())
		}
	}
	errOut.Reset()
	if code := StatusMain(ctx, []string{"--admin", down, "--credentials", g.dir}, &out, &errOut); code != 1 || errOut.Len() == 0 {
		t.Fatalf("status of a proxy that is down: exit %d, %q", code, errOut.String())
	}
}

func TestRemoveCommand(t *testing.T) {
	ctx := testContext(t)
	g := newGroup(t)
	p := single(t, g)
	creds := "--credentials=" + g.dir
	cases := []struct {
		args []string
		code int
		out  string // in stdout (code 0) or stderr
	}{
		{[]string{"s1", "--admin", p.srv.Addr(), creds}, 0, "s1 is leaving"},
		{[]string{"--admin", p.srv.Addr(), creds, "--force", "s2"}, 0, "s2 removed"},
		{[]string{"s9", "--admin", closedAddr(t) + "," + p.srv.Addr(), "--force", creds}, 1, "not a ring member: s9"},
		{[]string{"s3", "--admin", p.srv.Addr(), "--force", "--credentials", t.TempDir()}, 1, "has no ca.pem"},
		{[]string{"--admin", p.srv.Addr()}, 2, "which server"},
		{[]string{"s1", "s2", "--admin", p.srv.Addr()}, 2, "unexpected argument"},
		{[]string{"--bogus"}, 2, "flag provided but not defined"},
	}
	for _, c := range cases {
		var out, errOut bytes.Buffer
		code := RemoveMain(ctx, c.args, &out, &errOut)
		text := errOut.String()
		if c.code == 0 {
			text = out.String()
		}
		if code != c.code || !strings.Contains(text, c.out) {
			t.Errorf("remove %q: exit %d, stdout %q, stderr %q; want %d with %q", c.args, code, out.String(), errOut.String(), c.code, c.out)
		}
	}
	v := p.node.View()
	if !slices.Equal(v.Leaving, []string{"s1"}) || v.Has("s2") || !v.Has("s3") {
		t.Fatalf("after the commands: ring %v leaving %v", v.Ring.Servers(), v.Leaving)
	}
}

func TestBadRequestsGetJSONErrors(t *testing.T) {
	g := newGroup(t)
	p := single(t, g)
	base := "https://" + p.srv.Addr()
	client := NewClient(g.node).HTTP // a proxy's: every route takes it
	big := bytes.Repeat([]byte{'x'}, MaxBodySize+1)
	cases := []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"GET", "/v2/status", "", http.StatusNotFound, "bad_request"},
		{"GET", "/v1/apply", "", http.StatusMethodNotAllowed, "bad_request"},
		{"POST", "/v1/status", "", http.StatusMethodNotAllowed, "bad_request"},
		{"POST", "/v1/apply", "garbage", http.StatusBadRequest, "malformed"},
		{"POST", "/v1/apply", "\x93\x07\x02\xa2s1", http.StatusBadRequest, "unknown_version"},
		{"POST", "/v1/apply", string(big), http.StatusRequestEntityTooLarge, "bad_request"},
		{"POST", "/v1/proxies", `{"id":"p2"`, http.StatusBadRequest, "bad_request"},
		{"POST", "/v1/proxies", `{"id":"p2","raft":"h:1","extra":1}`, http.StatusBadRequest, "bad_request"},
		{"POST", "/v1/proxies", `{"id":"-p2","raft":"h:1"}`, http.StatusBadRequest, "bad_request"},
		{"POST", "/v1/proxies", `{"id":"p2","raft":""}`, http.StatusBadRequest, "bad_request"},
		{"POST", "/v1/proxies", `{"id":"p2","raft":"h:1"} {}`, http.StatusBadRequest, "bad_request"},
		{"POST", "/v1/remove", `{"server":""}`, http.StatusBadRequest, "bad_request"},
		{"POST", "/v1/remove", `{"server":"s9"}`, http.StatusNotFound, "not_member"},
		{"POST", "/v1/admit", `{"server":"s9","key":"short"}`, http.StatusBadRequest, "bad_request"},
		{"POST", "/v1/admit", `{"server":"s9"}`, http.StatusBadRequest, "bad_request"},
		{"POST", "/v1/admit", `{"server":"-s9","key":"` + strings.Repeat("0", 40) + `"}`, http.StatusBadRequest, "bad_request"},
		{"POST", "/v1/revoke", `{"server":"s9"}`, http.StatusNotFound, "not_admitted"},
		{"POST", "/v1/revoke", `{"server":"s9","key":"` + strings.Repeat("0", 40) + `"}`, http.StatusBadRequest, "bad_request"},
		{"GET", "/v1/admit", "", http.StatusMethodNotAllowed, "bad_request"},
	}
	for _, c := range cases {
		req, err := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
		must(t, err)
		resp, err := client.Do(req)
		must(t, err)
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		must(t, err)
		var e errorBody
		if resp.StatusCode != c.status || json.Unmarshal(raw, &e) != nil || e.Code != c.code || e.Error == "" ||
			resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s %.40q: %d %s, want %d with code %s", c.method, c.path, c.body, resp.StatusCode, raw, c.status, c.code)
		}
	}
	if v := p.node.View(); v.Epoch != 4 || len(p.node.Proxies()) != 1 {
		t.Fatalf("refused requests changed the state: epoch %d, proxies %+v", v.Epoch, p.node.Proxies())
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := ln.Addr().String()
	must(t, ln.Close())
	return addr
}
