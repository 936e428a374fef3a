package server

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"shoplist/protocol"
)

// Defaults for the zero fields of Config.
const (
	DefaultMaxSkew = 5 * time.Minute // how far ahead of the clock a list may be stamped
	DefaultWorkers = 64              // goroutines merging and reading lists
	// DefaultHandoffInterval is how often a server tries to deliver the
	// hinted lists it keeps for down owners.
	DefaultHandoffInterval = time.Second
	// DefaultHandoffTimeout is how long a server waits for the proxy's
	// answer to a Handoff before it tries again in a later round.
	DefaultHandoffTimeout = 5 * time.Second
	// DefaultTombstoneHorizon is how long lists remember removes.
	DefaultTombstoneHorizon = 90 * 24 * time.Hour
)

// queuePerWorker is how many requests may wait per worker before the server
// answers "overloaded": enough to absorb the proxy's bursts (64 clients'
// pipelined requests) without letting latency grow without bound.
const queuePerWorker = 16

// ErrConfig reports an unusable Config; the error names the field.
var ErrConfig = errors.New("server: invalid configuration")

// Config configures a Server. Only Dir is required.
type Config struct {
	// Dir is the server's data directory: the store, its lock and the
	// server ID file. Created if missing.
	Dir string
	// ID is the server ID to use when Dir has none yet (see
	// protocol.CheckServerID); empty means a generated "srv-" + 8 hex
	// digits. Once Dir has an ID, ID must be empty or equal to it.
	ID string
	// Proxies are the proxies' backend endpoints, each with the proxy's
	// CURVE public key: ENDPOINT#KEY (curvekey.SplitEndpoint). The server
	// keeps one connection to each (a proxy can only route to servers
	// connected to it), encrypted, and talks only to a proxy that holds
	// the key's secret. Empty means protocol.DefaultBackendEndpoint, which
	// has no key, so only with InsecureBackend.
	Proxies []string
	// InsecureBackend connects to proxies whose backend runs without
	// CURVE (proxy.Config.InsecureBackend); the endpoints then carry no
	// key. For measuring what CURVE costs, never for a deployment.
	InsecureBackend bool
	// Heartbeat is the heartbeat interval; 0 means
	// protocol.HeartbeatInterval.
	Heartbeat time.Duration
	// Liveness is how many silent intervals make a proxy count as gone; 0
	// means protocol.HeartbeatLiveness.
	Liveness int
	// MaxSkew is how far ahead of Now a stored list may be stamped; 0 means
	// DefaultMaxSkew.
	MaxSkew time.Duration
	// Workers is the number of goroutines serving stores and fetches; 0
	// means DefaultWorkers.
	Workers int
	// Batch sends a proxy the answers of one turn of the loop as one Batch
	// message (outbox.go); every proxy must read Batches. Batches from
	// proxies are read either way.
	Batch bool
	// HandoffInterval is how often hinted lists are offered to their owners
	// (also at once after a welcome or an adopted epoch); 0 means
	// DefaultHandoffInterval.
	HandoffInterval time.Duration
	// HandoffTimeout bounds the wait for the proxy's answer to a Handoff; 0
	// means DefaultHandoffTimeout.
	HandoffTimeout time.Duration
	// MaxHints bounds the hints kept for down owners; 0 means
	// storage.DefaultMaxHints. Beyond it HintedStores are refused with
	// Unavailable. Move hints (rebalancing) are not capped.
	MaxHints int
	// MemoryBudget bounds the bytes of requests and replies the server
	// holds at once (budget.go); 0 means DefaultMemoryBudget, and less than
	// MinMemoryBudget is refused. Past it requests are refused with
	// Unavailable.
	MemoryBudget int64
	// Cache is the bytes of the store's caches: Pebble's block cache and
	// the cache of encodings together (cache.go); 0 means DefaultCache,
	// and less than MinCache is refused.
	Cache int64
	// TombstoneHorizon is how long the store keeps what a remove cancelled
	// before the list forgets it (crdt/compact.go): every replica must sync
	// within it. 0 means DefaultTombstoneHorizon.
	TombstoneHorizon time.Duration
	// Logger receives the server's logs; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock for the skew guard; nil means time.Now.
	Now func() time.Time

	// onWelcome, if set, is called by the socket loop each time a proxy
	// welcomes the server (Main prints the "server ready" line). It must
	// not block.
	onWelcome func(id, endpoint string, epoch uint64)
	// beforeJob, if set, is called by a worker before each request; tests
	// use it to hold workers busy.
	beforeJob func()
	// admitted, if set, is called when a Store has passed the ownership
	// check, under the list's stripe lock (admit.go); beforeFence when a
	// rebalance pass is about to fence the stripes. Tests use them to hold
	// a write between its check and its commit while a pass starts.
	admitted, beforeFence func()

	// proxies are Proxies parsed, by withDefaults.
	proxies []proxyEndpoint
}

// withDefaults returns c with its zero fields filled in, or an error
// wrapping ErrConfig naming the first bad field.
func (c Config) withDefaults() (Config, error) {
	if c.Dir == "" {
		return c, fmt.Errorf("%w: no data directory", ErrConfig)
	}
	if c.ID != "" {
		if err := protocol.CheckServerID(c.ID); err != nil {
			return c, fmt.Errorf("%w: server ID: %w", ErrConfig, err)
		}
	}
	if len(c.Proxies) == 0 {
		c.Proxies = []string{protocol.DefaultBackendEndpoint}
	}
	proxies, err := parseProxies(c.Proxies, c.InsecureBackend)
	if err != nil {
		return c, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	c.proxies = proxies
	switch {
	case c.Heartbeat < 0 || c.Liveness < 0 || c.MaxSkew < 0 || c.Workers < 0:
		return c, fmt.Errorf("%w: heartbeat %v, liveness %d, max skew %v and workers %d must not be negative",
			ErrConfig, c.Heartbeat, c.Liveness, c.MaxSkew, c.Workers)
	case c.TombstoneHorizon < 0:
		return c, fmt.Errorf("%w: tombstone horizon %v must not be negative", ErrConfig, c.TombstoneHorizon)
	case c.HandoffInterval < 0 || c.HandoffTimeout < 0 || c.MaxHints < 0:
		return c, fmt.Errorf("%w: handoff interval %v, handoff timeout %v and max hints %d must not be negative",
			ErrConfig, c.HandoffInterval, c.HandoffTimeout, c.MaxHints)
	case c.MemoryBudget != 0 && c.MemoryBudget < MinMemoryBudget:
		return c, fmt.Errorf("%w: memory budget %d bytes is under the least a server needs, %d", ErrConfig, c.MemoryBudget, MinMemoryBudget)
	case c.Cache != 0 && c.Cache < MinCache:
		return c, fmt.Errorf("%w: cache %d bytes is under the least a server needs, %d", ErrConfig, c.Cache, MinCache)
	case c.Heartbeat > 0 && c.Heartbeat < time.Millisecond:
		return c, fmt.Errorf("%w: heartbeat %v is under the poll resolution of 1ms", ErrConfig, c.Heartbeat)
	}
	orDefault(&c.Heartbeat, protocol.HeartbeatInterval)
	orDefault(&c.Liveness, protocol.HeartbeatLiveness)
	orDefault(&c.MaxSkew, DefaultMaxSkew)
	orDefault(&c.Workers, DefaultWorkers)
	orDefault(&c.HandoffInterval, DefaultHandoffInterval)
	orDefault(&c.HandoffTimeout, DefaultHandoffTimeout)
	orDefault(&c.TombstoneHorizon, DefaultTombstoneHorizon)
	orDefault(&c.MemoryBudget, DefaultMemoryBudget)
	orDefault(&c.Cache, int64(DefaultCache))
	orDefault(&c.Logger, slog.Default())
	if c.Now == nil { // funcs are not comparable
		c.Now = time.Now
	}
	return c, nil
}

// orDefault sets *field to def if it holds its zero value.
func orDefault[T comparable](field *T, def T) {
	var zero T
	if *field == zero {
		*field = def
	}
}

// silence is how long a proxy may say nothing before it counts as gone.
func (c Config) silence() time.Duration { return c.Heartbeat * time.Duration(c.Liveness) }

// minBackoff is the first wait before reconnecting. After a proxy has been
// silent for Liveness intervals the server closes its socket and waits
// before reconnecting: first a quarter of an interval (250ms by default),
// doubling after each reconnection that is not welcomed, up to four
// intervals (4s); a welcome resets it. Each wait is shortened by a random 0-25% so that servers that
// lost the same proxy do not come back in lock step. The cap is short
// because the wait adds to the Liveness intervals already spent noticing
// the silence: a restarted proxy sees every server again within about
// 3s + 4s at worst.
func (c Config) minBackoff() time.Duration { return c.Heartbeat / 4 }

// maxBackoff is the longest wait before reconnecting; see minBackoff.
func (c Config) maxBackoff() time.Duration { return 4 * c.Heartbeat }
