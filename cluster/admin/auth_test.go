package admin

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"

	"shoplist/cluster/membership"
	"shoplist/internal/curvekey"
)

// errCaptured ends a change the capturing forwarder kept.
var errCaptured = errors.New("captured")

// capturer is a Forwarder that keeps the command instead of forwarding
// it: a real, encoded membership command to replay.
type capturer struct {
	mu  sync.Mutex
	cmd []byte
}

func (c *capturer) Forward(_ context.Context, _ string, cmd []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cmd = bytes.Clone(cmd)
	return errCaptured
}

// removeCommand returns the encoded command that removes server id at
// once, as a follower's Node forwards it to the leader p over /v1/apply.
func removeCommand(t *testing.T, g *group, p *testProxy, id string) []byte {
	t.Helper()
	capture := &capturer{}
	f := startProxyWith(t, g, "p2", false, func(membership.Forwarder) membership.Forwarder { return capture })
	connect(p, f)
	must(t, p.node.AddVoter(testContext(t), "p2", f.node.Addr()))
	leaderOf(t, p, f)
	if err := f.node.Remove(testContext(t), id); !errors.Is(err, errCaptured) {
		t.Fatalf("the follower's Remove: %v, want it captured", err)
	}
	return capture.cmd
}

// httpsClient returns a client with cfg and no connection reuse.
func httpsClient(cfg *tls.Config) *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
}

// call sends body to path and returns the status and the error code of the
// answer, or the error of a request that got no answer.
func call(c *http.Client, url, body string) (status int, code string, err error) {
	method := http.MethodPost
	if body == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequest(method, url, bytes.NewReader([]byte(body)))
	if err != nil {
		return 0, "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, "", err
	}
	var e errorBody
	_ = json.Unmarshal(raw, &e)
	return resp.StatusCode, e.Code, nil
}

// TestEveryRouteRefusesCallersWithoutTheGroupsCertificate calls every
// route with real requests — a status, a forced removal, a new voter and
// a genuine forwarded command — without a certificate, with certificates
// of another group, and over plain HTTP: the handshake refuses each and
// the state does not move. An operator of the group reads the status and
// removes a server but cannot speak for a proxy; a proxy of the group can,
// and its replay of the forwarded command takes effect.
func TestEveryRouteRefusesCallersWithoutTheGroupsCertificate(t *testing.T) {
	g := newGroup(t)
	p := single(t, g)
	apply := string(removeCommand(t, g, p, "s1"))
	stateOf := func() (uint64, int, bool, bool) {
		v := p.node.View()
		return v.Epoch, voters(t, p), v.Has("s1"), v.Has("s2")
	}
	epoch, nVoters, _, _ := stateOf()

	base := "https://" + p.srv.Addr()
	routes := []struct{ path, body string }{
		{"/v1/status", ""},
		{"/v1/remove", `{"server":"s2","force":true}`},
		{"/v1/proxies", `{"id":"intruder","raft":"127.0.0.1:1"}`},
		{"/v1/apply", apply},
	}
	// Each presents its certificate while trusting the group's proxies,
	// so that the refusal is the server's, not the client's.
	presenting := func(cert *tls.Certificate) *http.Client {
		cfg := g.operator.ClientConfig()
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
		return httpsClient(cfg)
	}
	other := newGroup(t)
	foreignOperator, foreignNode := other.operator.Certificate(), other.node.Certificate()
	key, err := curvekey.Generate()
	must(t, err)
	must(t, p.node.Admit(testContext(t), "s2", key.Public))
	admission := []struct{ path, body string }{
		{"/v1/admit", `{"server":"s8","key":"` + key.Public + `"}`},
		{"/v1/revoke", `{"server":"s2"}`},
	}
	for name, c := range map[string]*http.Client{
		"no certificate":            presenting(&tls.Certificate{}),
		"another group's operator":  presenting(&foreignOperator),
		"another group's proxy":     presenting(&foreignNode),
		"a client of another group": NewClient(other.operator).HTTP,
	} {
		for _, r := range append(slices.Clone(routes), admission...) {
			if status, code, err := call(c, base+r.path, r.body); err == nil {
				t.Errorf("%s: %s answered %d %s", name, r.path, status, code)
			}
		}
	}
	for _, r := range routes {
		status, _, err := call(http.DefaultClient, "http://"+p.srv.Addr()+r.path, r.body)
		if err != nil || status != http.StatusBadRequest {
			t.Errorf("plain HTTP to %s: %d, %v; want 400 from the TLS server", r.path, status, err)
		}
	}
	if e, v, s1, s2 := stateOf(); e != epoch || v != nVoters || !s1 || !s2 {
		t.Fatalf("refused calls moved the state: epoch %d (was %d), %d voters (was %d), s1 %v, s2 %v", e, epoch, v, nVoters, s1, s2)
	}
	if a := p.node.View().Admitted; a.Len() != 1 || !a.Admits("s2", key.Public) {
		t.Fatalf("refused calls changed the admissions: %v", a.IDs())
	}

	// The group's operator: the status and removals, not the proxies' own
	// routes.
	op := NewClient(g.operator).HTTP
	if status, _, err := call(op, base+"/v1/status", ""); err != nil || status != http.StatusOK {
		t.Fatalf("operator status: %d, %v", status, err)
	}
	for _, r := range routes[2:] {
		if status, code, err := call(op, base+r.path, r.body); err != nil || status != http.StatusForbidden || code != "forbidden" {
			t.Errorf("operator %s: %d %s, %v; want 403 forbidden", r.path, status, code, err)
		}
	}
	if e, v, s1, _ := stateOf(); e != epoch || v != nVoters || !s1 {
		t.Fatalf("an operator's forbidden calls moved the state: epoch %d (was %d), %d voters (was %d), s1 %v", e, epoch, v, nVoters, s1)
	}
	if status, _, err := call(op, base+"/v1/remove", routes[1].body); err != nil || status != http.StatusOK {
		t.Fatalf("operator removal: %d, %v", status, err)
	}
	if _, _, _, s2 := stateOf(); s2 {
		t.Fatal("s2 still a member after the operator removed it")
	}

	// A proxy of the group: the replayed command is real.
	if status, code, err := call(NewClient(g.node).HTTP, base+"/v1/apply", apply); err != nil || status != http.StatusOK {
		t.Fatalf("a proxy's /v1/apply: %d %s, %v", status, code, err)
	}
	if _, _, s1, _ := stateOf(); s1 {
		t.Fatal("s1 still a member after a proxy applied its removal")
	}
}
