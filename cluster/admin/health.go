package admin

import (
	"context"
	"net/http"
	"sync"
	"time"

	"shoplist/cluster/membership"
)

// pingTimeout bounds the probe of one other proxy when a status is asked.
const pingTimeout = time.Second

// ProxyHealth is whether a proxy of the group answered the proxy that
// gives the status: Up if its admin API answered a ping just now,
// LastContact when it last did (zero if never since this proxy started).
type ProxyHealth struct {
	ID          string    `json:"id"`
	Admin       string    `json:"admin"`
	Up          bool      `json:"up"`
	LastContact time.Time `json:"last_contact"`
	Error       string    `json:"error,omitempty"`
}

// Ping is the answer of GET /v1/ping: the ID of the proxy that answered.
type Ping struct {
	ID string `json:"id"`
}

// Ping asks the proxy at addr whether it is there.
func (c *Client) Ping(ctx context.Context, addr string) (Ping, error) {
	var p Ping
	err := c.do(ctx, addr, http.MethodGet, "/v1/ping", "", nil, false, maxReplySize, &p)
	return p, err
}

func (s *Server) ping(context.Context, *http.Request) (any, error) {
	return Ping{ID: s.node.ID()}, nil
}

// contacts remembers when each other proxy last answered a ping.
type contacts struct {
	mu   sync.Mutex           // guards last
	last map[string]time.Time // by proxy ID
}

// health probes every proxy of the group but this one, at once and each
// within pingTimeout, and returns every proxy's health, this one's
// included (up: it is answering).
func (s *Server) health(ctx context.Context, proxies []membership.ProxyInfo) []ProxyHealth {
	out := make([]ProxyHealth, len(proxies))
	var wg sync.WaitGroup
	for i, p := range proxies {
		out[i] = ProxyHealth{ID: p.ID, Admin: p.Admin}
		if p.ID == s.node.ID() {
			out[i].Up, out[i].LastContact = true, time.Now()
			continue
		}
		if p.Admin == "" {
			out[i].Error = "no admin address recorded"
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(ctx, pingTimeout)
			defer cancel()
			got, err := s.client.Ping(pctx, p.Admin)
			switch {
			case err != nil:
				out[i].Error = err.Error()
			case got.ID != p.ID:
				out[i].Error = "another proxy answers at its admin address: " + got.ID
			default:
				out[i].Up = true
			}
		}()
	}
	wg.Wait()
	s.contacts.mu.Lock()
	defer s.contacts.mu.Unlock()
	if s.contacts.last == nil {
		s.contacts.last = map[string]time.Time{}
	}
	now := time.Now()
	for i := range out {
		if out[i].Up {
			s.contacts.last[out[i].ID] = now
		}
		out[i].LastContact = s.contacts.last[out[i].ID]
	}
	return out
}
