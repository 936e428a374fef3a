package admin

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"shoplist/cluster/groupca"
	"shoplist/cluster/membership"
	"shoplist/cluster/proxy"
)

// Limits of the client.
const (
	// maxReplySize bounds an answer other than a status.
	maxReplySize = 64 << 10
	// maxStatusSize bounds a status: every server's virtual-node positions
	// and ranges.
	maxStatusSize = 32 << 20
	// dialTimeout bounds a connection attempt: an admin address that does
	// not answer is reported quickly, so that the caller tries another.
	dialTimeout = 2 * time.Second
	// handshakeTimeout bounds the TLS handshake that follows.
	handshakeTimeout = 5 * time.Second
)

// Client calls proxies' admin APIs over TLS, presenting a certificate of
// the group (a proxy's or an operator's) and accepting only a proxy of the
// group as the server. Requests are bounded by their context; answers by
// size. It is safe for concurrent use.
type Client struct {
	HTTP *http.Client
}

// NewClient returns a Client that authenticates with creds (not nil), with
// its own connection pool, which never goes through an HTTP proxy from the
// environment.
func NewClient(creds *groupca.Credentials) *Client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     creds.ClientConfig(),
		TLSHandshakeTimeout: handshakeTimeout,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     time.Minute,
	}
	return &Client{HTTP: &http.Client{Transport: tr}}
}

// Refused reports whether err is a TLS handshake that failed: this side
// did not accept the peer's certificate, the peer did not accept this
// side's (a TLS alert), or the peer does not speak TLS. The peer then
// acted on nothing that was sent.
func Refused(err error) bool {
	var verify *tls.CertificateVerificationError
	var header tls.RecordHeaderError
	var op *net.OpError
	switch {
	case errors.As(err, &verify), errors.As(err, &header), errors.Is(err, http.ErrSchemeMismatch), errors.Is(err, groupca.ErrNotIssued):
		return true
	case errors.As(err, &op) && op.Op == "remote error":
		return true
	}
	return false
}

// Apply asks the proxy at addr to apply an encoded membership command (the
// leader's side of forwarding).
func (c *Client) Apply(ctx context.Context, addr string, cmd []byte) error {
	var ok OK
	return c.do(ctx, addr, http.MethodPost, "/v1/apply", "application/octet-stream", cmd, false, maxReplySize, &ok)
}

// AddProxy asks the proxy at addr to add the proxy id, whose Raft
// transport listens on raftAddr, to the Raft group as a voter. A follower
// passes the request on to the leader.
func (c *Client) AddProxy(ctx context.Context, addr, id, raftAddr string) error {
	return c.addProxy(ctx, addr, AddProxyRequest{ID: id, Raft: raftAddr}, false)
}

func (c *Client) addProxy(ctx context.Context, addr string, req AddProxyRequest, forwarded bool) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("admin: encoding the request: %w", err)
	}
	var ok OK
	return c.do(ctx, addr, http.MethodPost, "/v1/proxies", "application/json", body, forwarded, maxReplySize, &ok)
}

// Status returns the status of the proxy at addr.
func (c *Client) Status(ctx context.Context, addr string) (Status, error) {
	var st Status
	err := c.do(ctx, addr, http.MethodGet, "/v1/status", "", nil, false, maxStatusSize, &st)
	return st, err
}

// Remove asks the proxy at addr to remove a server from the ring: marked
// leaving (its lists are handed over, then the leader removes it) or, with
// force, removed at once. It returns once that change is committed.
func (c *Client) Remove(ctx context.Context, addr, server string, force bool) (RemoveReply, error) {
	body, err := json.Marshal(RemoveRequest{Server: server, Force: force})
	if err != nil {
		return RemoveReply{}, fmt.Errorf("admin: encoding the request: %w", err)
	}
	var reply RemoveReply
	err = c.do(ctx, addr, http.MethodPost, "/v1/remove", "application/json", body, false, maxReplySize, &reply)
	return reply, err
}

// do sends one request and decodes its answer into out, or returns the
// API's error as a *RemoteError.
func (c *Client) do(ctx context.Context, addr, method, path, ctype string, body []byte, forwarded bool, limit int64, out any) error {
	url := "https://" + addr + path
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return fmt.Errorf("admin: %s %s: %w", method, url, err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if forwarded {
		req.Header.Set(forwardedHeader, "1")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("admin: %s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	p, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return fmt.Errorf("admin: reading the answer of %s %s: %w", method, url, err)
	}
	if int64(len(p)) > limit {
		return fmt.Errorf("%w: the answer of %s %s is over %d bytes", ErrUnavailable, method, url, limit)
	}
	if resp.StatusCode != http.StatusOK {
		var e errorBody
		if json.Unmarshal(p, &e) != nil || e.Code == "" {
			return fmt.Errorf("%w: %s %s answered %s: %q", ErrUnavailable, method, url, resp.Status, snippet(p))
		}
		return &RemoteError{Addr: addr, Status: resp.StatusCode, Code: e.Code, Message: e.Error}
	}
	if err := json.Unmarshal(p, out); err != nil {
		return fmt.Errorf("%w: the answer of %s %s: %w", ErrUnavailable, method, url, err)
	}
	return nil
}

// snippet returns the start of an unexpected answer, for an error.
func snippet(p []byte) string {
	const max = 200
	s := strings.TrimSpace(string(p))
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// Directory finds a proxy's admin address from its Raft address;
// *membership.Node is one, from the committed proxies table.
type Directory interface {
	AdminAddr(raftAddr string) (string, bool)
}

// Forwarder is a membership.Forwarder over the admin API: it finds the
// leader's admin address in its Directory and posts the command to
// /v1/apply. Errors come back as the sentinels membership expects: the
// leader's refusals as they were, an unknown or unreachable leader as
// membership.ErrNoLeader, an answer lost after the request was sent as
// membership.ErrUndecided.
type Forwarder struct {
	client *Client
	mu     sync.Mutex // guards dir
	dir    Directory
}

var _ membership.Forwarder = (*Forwarder)(nil)

// NewForwarder returns a Forwarder that calls through client, which holds
// this proxy's node credentials. It has no Directory yet: Forward reports
// ErrNoLeader until SetDirectory.
func NewForwarder(client *Client) *Forwarder {
	return &Forwarder{client: client}
}

// SetDirectory sets where the leader's admin address is looked up: the
// Node the Forwarder serves, which exists only after the Forwarder is
// given to it.
func (f *Forwarder) SetDirectory(d Directory) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dir = d
}

// Forward applies cmd on the leader whose Raft address is leaderAddr.
func (f *Forwarder) Forward(ctx context.Context, leaderAddr string, cmd []byte) error {
	f.mu.Lock()
	dir := f.dir
	f.mu.Unlock()
	if dir == nil {
		return fmt.Errorf("%w: no directory of admin addresses yet", membership.ErrNoLeader)
	}
	addr, ok := dir.AdminAddr(leaderAddr)
	if !ok {
		return fmt.Errorf("%w: the leader at %s has not recorded its admin address yet", membership.ErrNoLeader, leaderAddr)
	}
	return forwardError(ctx, f.client.Apply(ctx, addr, cmd))
}

// forwardError translates an error of Apply for the Node: see Forwarder.
func forwardError(ctx context.Context, err error) error {
	var remote *RemoteError
	var op *net.OpError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &remote):
		switch {
		case errors.Is(err, membership.ErrClosed), errors.Is(err, proxy.ErrClosed):
			return fmt.Errorf("%w: %v", membership.ErrNoLeader, err) // the leader is going away
		case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
			return fmt.Errorf("%w: %v", membership.ErrUndecided, err)
		}
		return err
	case ctx.Err() != nil:
		return err
	case errors.As(err, &op) && op.Op == "dial", Refused(err):
		return fmt.Errorf("%w: %v", membership.ErrNoLeader, err) // nothing was sent, or acted on
	}
	return fmt.Errorf("%w: %v", membership.ErrUndecided, err)
}
