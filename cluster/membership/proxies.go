package membership

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"shoplist/protocol"
)

// Limits of the proxies table.
const (
	// MaxProxies bounds the proxies recorded: the client endpoints a
	// Welcome can list.
	MaxProxies = protocol.MaxEndpoints
	// MaxAddrLen bounds each address of a ProxyInfo.
	MaxAddrLen = protocol.MaxEndpointLen
)

// ProxyInfo is a proxy of the Raft group as the replicated state records
// it: how peers reach its Raft transport and its admin API, and the
// endpoint clients connect to. Each proxy records its own (Node.SetSelf).
type ProxyInfo struct {
	ID     string `json:"id"`
	Raft   string `json:"raft"`   // host:port of its Raft transport
	Admin  string `json:"admin"`  // host:port of its admin HTTP API; "" if it has none
	Client string `json:"client"` // its client endpoint (tcp://host:port); "" if not bound yet
}

// Check reports whether p may be recorded: a valid ID, a Raft address,
// printable addresses of at most MaxAddrLen bytes, and a client endpoint
// of the form transport://address if any.
func (p ProxyInfo) Check() error {
	if err := protocol.CheckServerID(p.ID); err != nil {
		return fmt.Errorf("proxy ID: %w", err)
	}
	if p.Raft == "" {
		return fmt.Errorf("proxy %s: empty Raft address", p.ID)
	}
	for _, a := range []struct{ what, v string }{{"Raft address", p.Raft}, {"admin address", p.Admin}, {"client endpoint", p.Client}} {
		if len(a.v) > MaxAddrLen {
			return fmt.Errorf("proxy %s: %s is %d bytes, at most %d allowed", p.ID, a.what, len(a.v), MaxAddrLen)
		}
		for i := 0; i < len(a.v); i++ {
			if a.v[i] <= ' ' || a.v[i] > '~' {
				return fmt.Errorf("proxy %s: %s %q: byte %d is not printable ASCII", p.ID, a.what, a.v, i)
			}
		}
	}
	if p.Client != "" {
		scheme, rest, ok := strings.Cut(p.Client, "://")
		if !ok || scheme == "" || rest == "" || strings.Trim(scheme, "abcdefghijklmnopqrstuvwxyz") != "" {
			return fmt.Errorf("proxy %s: client endpoint %q is not transport://address", p.ID, p.Client)
		}
	}
	return nil
}

// readProxyInfo reads [id str, raft str, admin str, client str]'s four
// strings (the caller has read the array header) and checks them; the
// first error is left in r.err.
func readProxyInfo(r *reader) ProxyInfo {
	p := ProxyInfo{
		ID:     r.str("proxy ID", protocol.MaxServerIDLen),
		Raft:   r.str("proxy Raft address", MaxAddrLen),
		Admin:  r.str("proxy admin address", MaxAddrLen),
		Client: r.str("proxy client endpoint", MaxAddrLen),
	}
	if r.err == nil {
		if err := p.Check(); err != nil {
			r.fail("%v", err)
		}
	}
	return p
}

// writeProxyInfo writes p's four strings (the caller writes the header).
func writeProxyInfo(w *writer, p ProxyInfo) {
	w.str(p.ID)
	w.str(p.Raft)
	w.str(p.Admin)
	w.str(p.Client)
}

// applyProxy records p, replacing the record under its ID. It reports
// whether the state changed; a new proxy beyond MaxProxies is refused. It
// does not touch the ring or the epoch, and needs no configuration.
func (s *state) applyProxy(p ProxyInfo) (bool, error) {
	if err := p.Check(); err != nil { // decodeCommand checked it; a command built otherwise may not be
		return false, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	old, known := s.proxies[p.ID]
	switch {
	case known && old == p:
		return false, nil
	case !known && len(s.proxies) >= MaxProxies:
		return false, fmt.Errorf("%w: %d proxies, at most %d allowed", ErrFull, len(s.proxies), MaxProxies)
	}
	s.proxies[p.ID] = p
	return true, nil
}

// pruneProxies deletes the records of the proxies that are not in the
// Raft configuration inGroup (by ID) and reports whether it deleted any.
// Like apply, it depends only on the state and its argument, and Raft
// hands every replica the same configurations at the same points of the
// log (fsm.StoreConfiguration), so every replica prunes alike.
func (s *state) pruneProxies(inGroup map[string]bool) bool {
	pruned := false
	for id := range s.proxies {
		if !inGroup[id] {
			delete(s.proxies, id)
			pruned = true
		}
	}
	return pruned
}

// sortedProxies returns the recorded proxies sorted by ID.
func (s *state) sortedProxies() []ProxyInfo {
	out := make([]ProxyInfo, 0, len(s.proxies))
	for _, id := range slices.Sorted(maps.Keys(s.proxies)) {
		out = append(out, s.proxies[id])
	}
	return out
}

// clientEndpoints returns the proxies' client endpoints in the order of
// their IDs, skipping proxies without one; nil if there is none.
func (s *state) clientEndpoints() []string {
	var out []string
	for _, p := range s.sortedProxies() {
		if p.Client != "" {
			out = append(out, p.Client)
		}
	}
	return out
}
