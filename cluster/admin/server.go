package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"shoplist/cluster/groupca"
	"shoplist/cluster/membership"
	"shoplist/cluster/proxy"
	"shoplist/protocol"
)

// Limits and timeouts of the server.
const (
	// MaxBodySize bounds a request body; a larger one is refused.
	MaxBodySize = 64 << 10
	// DefaultRequestTimeout bounds the work of one request (a change
	// waits for its commit within it).
	DefaultRequestTimeout = 15 * time.Second
	// shutdownTimeout bounds Close's wait for requests in progress.
	shutdownTimeout = 2 * time.Second
)

// forwardedHeader marks a request one proxy passed to the leader's admin
// API on behalf of a caller; it is not passed on again.
const forwardedHeader = "X-Shoplist-Forwarded"

// Proxy is what the admin API needs of the running proxy; *proxy.Proxy
// implements it.
type Proxy interface {
	Status(ctx context.Context) (proxy.Status, error)
	Decommission(ctx context.Context, id string) error
}

// Options configure a Server; zero fields take their defaults.
type Options struct {
	// Client passes /v1/proxies on to the leader (NewClient with the
	// server's credentials).
	Client *Client
	// RequestTimeout bounds each request's work (DefaultRequestTimeout).
	RequestTimeout time.Duration
	// Logger receives the server's log; nil means slog.Default().
	Logger *slog.Logger
	// Advertise, if set, is the host other proxies reach this API at when
	// the listener is on a wildcard, with the port bound.
	Advertise string
}

// Server is a proxy's admin HTTP API: the routes of the package doc, over
// the proxy's membership.Node and, once attached, the proxy itself.
type Server struct {
	node     *membership.Node
	client   *Client
	timeout  time.Duration
	log      *slog.Logger
	addr     string
	http     *http.Server
	served   chan struct{} // closed when Serve has returned
	contacts contacts      // when the other proxies last answered
	mu       sync.Mutex    // guards proxy
	proxy    Proxy         // nil until Attach
}

// Serve starts serving the admin API over TLS on ln for node, in a
// goroutine of its own, until Close. creds are this proxy's node
// credentials: the server presents its certificate and refuses every
// client without a certificate of the group's CA (groupca.ServerConfig).
func Serve(ln net.Listener, node *membership.Node, creds *groupca.Credentials, o Options) (*Server, error) {
	if creds == nil || creds.Role() != groupca.RoleNode {
		return nil, errors.New("admin: the API is served with this proxy's node credentials")
	}
	if o.Client == nil {
		o.Client = NewClient(creds)
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	addr := ln.Addr().String()
	if o.Advertise != "" {
		if tcp, ok := ln.Addr().(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
			addr = net.JoinHostPort(o.Advertise, strconv.Itoa(tcp.Port))
		}
	}
	s := &Server{node: node, client: o.Client, timeout: o.RequestTimeout, log: o.Logger, addr: addr, served: make(chan struct{})}
	s.http = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      o.RequestTimeout + 5*time.Second,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    MaxBodySize,
		ErrorLog:          slog.NewLogLogger(o.Logger.Handler(), slog.LevelDebug),
		TLSConfig:         creds.ServerConfig(),
	}
	go func() {
		defer close(s.served)
		if err := s.http.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("admin API stopped", "addr", s.addr, "err", err)
		}
	}()
	return s, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() string { return s.addr }

// Attach gives the server the running proxy: /v1/status then reports it
// and /v1/remove decommissions through it.
func (s *Server) Attach(p Proxy) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.proxy = p
}

func (s *Server) attached() Proxy {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proxy
}

// Close stops the server: it stops accepting, waits a short while for the
// requests in progress, then closes their connections.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := s.http.Shutdown(ctx)
	if err != nil {
		err = s.http.Close()
	}
	<-s.served
	if err != nil {
		return fmt.Errorf("admin: closing the server on %s: %w", s.addr, err)
	}
	return nil
}

// Handler returns the API's routes. Every request must come over TLS
// with a client certificate of the group's CA (as Serve's listener
// requires); the group's own traffic, /v1/apply and /v1/proxies, must come
// from a proxy of the group.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/apply", s.route(http.MethodPost, proxiesOnly, s.apply))
	mux.HandleFunc("/v1/proxies", s.route(http.MethodPost, proxiesOnly, s.addProxy))
	mux.HandleFunc("/v1/status", s.route(http.MethodGet, anyHolder, s.status))
	mux.HandleFunc("/v1/ping", s.route(http.MethodGet, anyHolder, s.ping))
	mux.HandleFunc("/v1/remove", s.route(http.MethodPost, anyHolder, s.remove))
	mux.HandleFunc("/v1/admit", s.route(http.MethodPost, anyHolder, s.admit))
	mux.HandleFunc("/v1/revoke", s.route(http.MethodPost, anyHolder, s.revoke))
	mux.HandleFunc("/", s.route("", anyHolder, nil))
	return mux
}

// handler serves one route: it returns the JSON answer or an error.
type handler func(ctx context.Context, r *http.Request) (any, error)

// access says whose certificate a route takes.
type access int

const (
	anyHolder   access = iota // a proxy's or an operator's
	proxiesOnly               // a proxy's: the group's own traffic
)

// allowed returns why r may not call a route of access a, or nil.
func allowed(r *http.Request, a access) error {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
		return fmt.Errorf("%w: no verified client certificate of the group", ErrUnauthenticated)
	}
	if a == proxiesOnly && !groupca.IsNode(r.TLS.PeerCertificates[0]) {
		return fmt.Errorf("%w: %s is the proxies' own; an operator's certificate does not do", ErrForbidden, r.URL.Path)
	}
	return nil
}

// route checks the caller's certificate and the method (an empty method
// with a nil h: no such route), bounds the body and the time, and writes
// the answer or the error as JSON.
func (s *Server) route(method string, a access, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := allowed(r, a); err != nil {
			s.fail(w, r, 0, err)
			return
		}
		if h == nil {
			s.fail(w, r, http.StatusNotFound, fmt.Errorf("%w: no route %s", ErrBadRequest, r.URL.Path))
			return
		}
		if r.Method != method {
			w.Header().Set("Allow", method)
			s.fail(w, r, http.StatusMethodNotAllowed, fmt.Errorf("%w: %s %s, want %s", ErrBadRequest, r.Method, r.URL.Path, method))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodySize)
		ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
		defer cancel()
		out, err := h(ctx, r)
		if err != nil {
			s.fail(w, r, 0, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	}
}

// fail writes err as the API's JSON error, with status or, if 0, the
// status of its code.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	code, byCode := codeOf(err)
	var tooLarge *http.MaxBytesError
	switch {
	case status != 0:
	case errors.As(err, &tooLarge):
		status = http.StatusRequestEntityTooLarge
	default:
		status = byCode
	}
	s.log.Debug("admin request refused", "method", r.Method, "path", r.URL.Path, "code", code, "err", err)
	writeJSON(w, status, errorBody{Error: err.Error(), Code: code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client is gone if it fails
}

// readBody reads a body of at most MaxBodySize bytes.
func readBody(r *http.Request) ([]byte, error) {
	p, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: reading the body: %w", ErrBadRequest, err)
	}
	return p, nil
}

// decodeBody decodes a JSON body into v, refusing unknown fields.
func decodeBody(r *http.Request, v any) error {
	p, err := readBody(r)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data after the JSON body", ErrBadRequest)
	}
	return nil
}

// OK is the answer of a route that changes something.
type OK struct {
	OK bool `json:"ok"`
}

// apply applies a command a follower's Node forwarded (the body, as
// membership encodes it).
func (s *Server) apply(ctx context.Context, r *http.Request) (any, error) {
	cmd, err := readBody(r)
	if err != nil {
		return nil, err
	}
	if err := s.node.ApplyCommand(ctx, cmd); err != nil {
		return nil, err
	}
	return OK{OK: true}, nil
}

// AddProxyRequest is the body of POST /v1/proxies.
type AddProxyRequest struct {
	ID   string `json:"id"`   // the joining proxy's Raft ID
	Raft string `json:"raft"` // its Raft address
}

// addProxy adds a proxy to the Raft group as a voter: on the leader, or
// passed on to the leader's admin API once.
func (s *Server) addProxy(ctx context.Context, r *http.Request) (any, error) {
	var req AddProxyRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	if err := (membership.ProxyInfo{ID: req.ID, Raft: req.Raft}).Check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if s.node.IsLeader() {
		if err := s.node.AddVoter(ctx, req.ID, req.Raft); err != nil {
			return nil, err
		}
		s.log.Info("proxy added to the raft group", "proxy", req.ID, "raft", req.Raft)
		return OK{OK: true}, nil
	}
	id, raftAddr := s.node.Leader()
	switch {
	case r.Header.Get(forwardedHeader) != "":
		return nil, fmt.Errorf("%w: %s is not the leader (%q is)", membership.ErrNotLeader, s.addr, id)
	case raftAddr == "":
		return nil, fmt.Errorf("%w: the proxy at %s knows of none", membership.ErrNoLeader, s.addr)
	}
	admin, ok := s.node.AdminAddr(raftAddr)
	if !ok {
		return nil, fmt.Errorf("%w: the leader %s has not recorded its admin address yet", membership.ErrNoLeader, id)
	}
	if err := s.client.addProxy(ctx, admin, req, true); err != nil {
		return nil, err
	}
	return OK{OK: true}, nil
}

// Status is the answer of GET /v1/status: what `proxy status --json`
// prints.
type Status struct {
	// Admin is the admin address of the proxy that answered.
	Admin string `json:"admin"`
	// Membership is that proxy's view of the Raft group and the
	// committed ring.
	Membership membership.Status `json:"membership"`
	// Proxies are the group's proxies, up or down as that proxy reaches
	// their admin APIs, in the order of Membership.Proxies.
	Proxies []ProxyHealth `json:"proxies"`
	// Proxy is that proxy's view of the servers; nil if the proxy is not
	// started yet or could not answer (ProxyError says why).
	Proxy      *proxy.Status `json:"proxy,omitempty"`
	ProxyError string        `json:"proxy_error,omitempty"`
}

func (s *Server) status(ctx context.Context, _ *http.Request) (any, error) {
	ms, err := s.node.Status(ctx)
	if err != nil {
		return nil, err
	}
	out := Status{Admin: s.addr, Membership: ms, Proxies: s.health(ctx, ms.Proxies)}
	if p := s.attached(); p == nil {
		out.ProxyError = "the proxy is not started yet"
	} else if ps, err := p.Status(ctx); err != nil {
		out.ProxyError = err.Error()
	} else {
		out.Proxy = &ps
	}
	return out, nil
}

// RemoveRequest is the body of POST /v1/remove.
type RemoveRequest struct {
	Server string `json:"server"`
	// Force removes the server at once, without handing its lists over;
	// otherwise it is marked leaving and the leader removes it once it
	// has handed them over.
	Force bool `json:"force"`
}

// RemoveReply is the answer of POST /v1/remove.
type RemoveReply struct {
	Server string `json:"server"`
	// Action is "remove" (forced: out of the ring now) or "leave" (marked
	// leaving; the leader removes it once drained).
	Action string `json:"action"`
}

func (s *Server) remove(ctx context.Context, r *http.Request) (any, error) {
	var req RemoveRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	if err := protocol.CheckServerID(req.Server); err != nil {
		return nil, fmt.Errorf("%w: server ID: %w", ErrBadRequest, err)
	}
	if req.Force {
		if err := s.node.Remove(ctx, req.Server); err != nil {
			return nil, err
		}
		s.log.Info("server removed by an operator", "server", req.Server)
		return RemoveReply{Server: req.Server, Action: "remove"}, nil
	}
	var err error
	if p := s.attached(); p != nil {
		err = p.Decommission(ctx, req.Server)
	} else {
		err = s.node.Leave(ctx, req.Server)
	}
	if err != nil {
		return nil, err
	}
	s.log.Info("server decommissioned by an operator: leaving", "server", req.Server)
	return RemoveReply{Server: req.Server, Action: "leave"}, nil
}
