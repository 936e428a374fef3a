package syncer

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"shoplist/client/replica"
	"shoplist/internal/curvekey"
	"shoplist/protocol"
)

// Defaults for the zero fields of a Config.
const (
	DefaultTimeout    = 3 * time.Second
	DefaultMaxBackoff = 5 * time.Second
	DefaultPoll       = 250 * time.Millisecond
	DefaultRepull     = 30 * time.Second
)

// Connection tuning that is not configurable.
const (
	// minBackoff is the first reconnection delay; it doubles up to
	// Config.MaxBackoff and drops back after a Welcome.
	minBackoff = 100 * time.Millisecond
	// liveness is how many heartbeat intervals of silence make a proxy dead.
	liveness = protocol.HeartbeatLiveness
	// maxSkew is how far the proxy's clock may differ from ours before
	// Status.LastErr says so. Servers refuse stamps 5 minutes ahead.
	maxSkew = 2 * time.Minute
	// maxInFlight bounds the pushes and pulls outstanding at once.
	maxInFlight = 64
)

// Errors callers test with errors.Is.
var (
	ErrOffline  = errors.New("syncer: cluster unreachable")
	ErrNotFound = errors.New("syncer: the cluster does not know this list")
	ErrClosed   = errors.New("syncer: engine closed")
	ErrConfig   = errors.New("syncer: invalid configuration")
)

// ConnState is the engine's connection to the cluster.
type ConnState int

// Connection states.
const (
	Offline    ConnState = iota // not connected (or Config.Offline)
	Connecting                  // a DEALER is open, no Welcome yet
	Online                      // welcomed by a proxy
)

// String returns "offline", "connecting" or "online".
func (c ConnState) String() string {
	switch c {
	case Offline:
		return "offline"
	case Connecting:
		return "connecting"
	case Online:
		return "online"
	}
	return fmt.Sprintf("ConnState(%d)", int(c))
}

// Status is what a UI shows about the engine.
type Status struct {
	Conn    ConnState
	Syncing bool   // requests in flight or lists waiting to be pushed/pulled while online
	Proxy   string // endpoint in use (or being tried)
	Pending int    // local lists with unpushed changes
	LastErr string // last sync error, "" when fine
}

// EventKind says what an Event is about.
type EventKind int

// Event kinds.
const (
	// StatusChanged: Status() has a new value.
	StatusChanged EventKind = iota
	// ListChanged: the list List changed in the replica; Keys are the item
	// keys ("" = the name). Sent for changes the engine made (merges of
	// pulls and live updates, Remote = true, and joins).
	ListChanged
	// ListsChanged: lists were added or forgotten, or the reader fell
	// behind and events were coalesced: reload everything.
	ListsChanged
)

// String returns the kind's name.
func (k EventKind) String() string {
	switch k {
	case StatusChanged:
		return "StatusChanged"
	case ListChanged:
		return "ListChanged"
	case ListsChanged:
		return "ListsChanged"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event tells a UI that something changed.
type Event struct {
	Kind   EventKind
	List   uuid.UUID // ListChanged
	Keys   []string  // ListChanged: changed item keys ("" = name)
	Remote bool      // ListChanged: change came from the network (live update / pull)
	// Dropped (ListChanged) names the items a pull dropped or changed
	// because the cluster had forgotten them: this replica was away for
	// longer than the horizon (see crdt/compact.go). A UI tells the user.
	Dropped []string
}

// Config configures an Engine. Zero fields take their defaults.
type Config struct {
	Store *replica.Store
	// Endpoints are the proxies' client endpoints, tried in order. Each
	// is ENDPOINT#KEY with the proxy's public key (as `service` prints
	// it): the engine then speaks to that proxy only over CURVE, pinning
	// KEY, and accepts from its Welcomes only endpoints that carry a key
	// too. A bare endpoint (a proxy run with --insecure-clients, for
	// benchmarks) is dialled without CURVE.
	Endpoints []string
	// Key is this install's CURVE key pair, which proxies see; the zero
	// Pair means a new pair for this engine.
	Key        curvekey.Pair
	Offline    bool          // never touch the network
	Logger     *slog.Logger  // nil = discard
	Heartbeat  time.Duration // Hello/ping interval, default protocol.HeartbeatInterval (1 s); dead after 3 missed
	Timeout    time.Duration // per request, default 3 s
	MaxBackoff time.Duration // reconnect back-off cap, default 5 s (starts at 100 ms, jittered, doubles)
	Poll       time.Duration // how often to check Store.Generation for other processes' edits, default 250 ms
	// Repull is how often every local list is pulled again while online,
	// a safety net for live updates lost on the way (PUB drops them for
	// slow or reconnecting subscribers); default 30 s.
	Repull time.Duration
}

// withDefaults returns c with its zero fields set, or an error wrapping
// ErrConfig.
func (c Config) withDefaults() (Config, error) {
	if c.Store == nil {
		return c, fmt.Errorf("%w: no store", ErrConfig)
	}
	if !c.Offline && len(c.Endpoints) == 0 {
		return c, fmt.Errorf("%w: no proxy endpoint (use Offline to sync never)", ErrConfig)
	}
	for _, ep := range c.Endpoints {
		if ep == "" {
			return c, fmt.Errorf("%w: empty proxy endpoint", ErrConfig)
		}
		if _, _, err := curvekey.SplitEndpoint(ep); err != nil {
			return c, fmt.Errorf("%w: %w", ErrConfig, err)
		}
	}
	if c.Key == (curvekey.Pair{}) {
		k, err := curvekey.Generate()
		if err != nil {
			return c, err
		}
		c.Key = k
	}
	c.Endpoints = append([]string(nil), c.Endpoints...)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = protocol.HeartbeatInterval
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.Poll == 0 {
		c.Poll = DefaultPoll
	}
	if c.Repull == 0 {
		c.Repull = DefaultRepull
	}
	if c.Heartbeat < 0 || c.Timeout < 0 || c.MaxBackoff < 0 || c.Poll < 0 || c.Repull < 0 {
		return c, fmt.Errorf("%w: durations must be positive", ErrConfig)
	}
	c.MaxBackoff = max(c.MaxBackoff, minBackoff)
	return c, nil
}
