package proxy

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"shoplist/cluster/placement"
	"shoplist/internal/curvekey"
	"shoplist/protocol"
)

// Defaults for the zero fields of a Config.
const (
	DefaultN       = 3
	DefaultW       = 2
	DefaultR       = 2
	DefaultTimeout = 2 * time.Second
	// DefaultMaxInFlight bounds the client requests the proxy tracks at
	// once; beyond it a request is refused with Unavailable rather than
	// queued without bound.
	DefaultMaxInFlight = 100_000
	// DefaultAntiEntropyInterval is how often the leader compares the
	// replicas of one ring range (package antientropy).
	DefaultAntiEntropyInterval = time.Second
	// DefaultDeadAfter is how long a member may be unusable before the
	// leader removes it from the ring.
	DefaultDeadAfter = 10 * time.Minute
	// DefaultNewListsPerMinute is how many lists the cluster did not hold
	// one client may create a minute (newlists.go): far more than a person
	// makes, far fewer than a script filling the cluster.
	DefaultNewListsPerMinute = 600
)

// ErrConfig means a Config breaks a rule; the message says which.
var ErrConfig = errors.New("proxy: invalid configuration")

// Config configures a Proxy. The zero value of every field but the
// endpoints means its default.
type Config struct {
	// ClientEndpoint, PubEndpoint and BackendEndpoint are the addresses the
	// client ROUTER, the PUB and the server ROUTER bind. "tcp://HOST:*"
	// binds a free port; Endpoints reports what was bound.
	ClientEndpoint, PubEndpoint, BackendEndpoint string
	// Advertise, if set, is the host peers dial this proxy at where a
	// socket binds a wildcard (0.0.0.0): Endpoints report it with the
	// port bound. Without it a wildcard is reported as loopback.
	Advertise string
	// N is the number of replicas of each list; W the acknowledgements a
	// write needs; R the answers a read needs. R + W must exceed N.
	N, W, R int
	// Heartbeat is the liveness interval (protocol.HeartbeatInterval) and
	// Liveness the silent intervals after which a server is down
	// (protocol.HeartbeatLiveness).
	Heartbeat time.Duration
	Liveness  int
	// Timeout is each client request's deadline: a write or read that has
	// not reached its quorum by then fails with QuorumFailed.
	Timeout time.Duration
	// MaxInFlight bounds the client requests in progress (DefaultMaxInFlight).
	MaxInFlight int
	// MaxSubscriptions bounds the live-update topics the PUB applies for
	// one client key (DefaultMaxSubscriptions; subscriptions.go).
	MaxSubscriptions int
	// Batch sends a server the Stores and Fetches of one turn of the loop
	// as one Batch message (outbox.go); every server must read Batches.
	// Batches from servers are read either way.
	Batch bool
	// MemoryBudget is the memory the proxy may use, in bytes: what it holds
	// and queues for clients and servers is bounded by about half of it,
	// per client connection and in total (budget.go). Zero means
	// DefaultMemoryBudget; less than MinMemoryBudget is refused.
	MemoryBudget int64
	// NewListsPerMinute caps the lists the cluster did not hold that one
	// client may create a minute (newlists.go). Zero means
	// DefaultNewListsPerMinute; negative, no cap.
	NewListsPerMinute int
	// AntiEntropyInterval is the period of anti-entropy rounds, each of
	// which compares the replicas of one ring range (run by the leader
	// only). Zero means DefaultAntiEntropyInterval; negative disables it.
	AntiEntropyInterval time.Duration
	// DeadAfter is how long a ring member may stay down or disconnected
	// before the leading proxy removes it (counted from when this proxy
	// became leader at the latest). Zero means DefaultDeadAfter; negative
	// never removes. Shorter outages are covered by sloppy quorum.
	DeadAfter time.Duration
	// CurveSecretKey is the proxy's CURVE secret key, in Z85 (required
	// unless InsecureBackend): the backend is a CURVE server with it, and
	// accepts a storage server only if the server's key is admitted in
	// the membership's view (View.Admitted), and then only under the ID
	// bound to that key. Servers pin the matching public key
	// (Endpoints.BackendKey).
	CurveSecretKey string
	// InsecureBackend runs the backend without CURVE: nothing is
	// encrypted, and any process may say hello under any server ID. It is
	// for measuring what CURVE costs, never for a deployment.
	InsecureBackend bool
	// InsecureClients runs the client ROUTER and the PUB without CURVE:
	// requests, replies and their list IDs cross the network in clear,
	// and no client can tell this proxy from another. Like
	// InsecureBackend it is for measuring what CURVE costs, never for a
	// deployment. Otherwise both are CURVE servers with CurveSecretKey,
	// which clients pin (Endpoints.ClientEndpoint, Endpoints.PubEndpoint).
	InsecureClients bool
	// Membership decides the ring (required).
	Membership placement.Membership
	// Logger receives the proxy's log; nil means slog.Default().
	Logger *slog.Logger
}

// withDefaults returns c with its zero fields set to their defaults, or an
// error wrapping ErrConfig.
func (c Config) withDefaults() (Config, error) {
	if c.N == 0 {
		c.N = DefaultN
	}
	if c.W == 0 {
		c.W = DefaultW
	}
	if c.R == 0 {
		c.R = DefaultR
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = protocol.HeartbeatInterval
	}
	if c.Liveness == 0 {
		c.Liveness = protocol.HeartbeatLiveness
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.MaxSubscriptions == 0 {
		c.MaxSubscriptions = DefaultMaxSubscriptions
	}
	if c.MemoryBudget == 0 {
		c.MemoryBudget = DefaultMemoryBudget
	}
	if c.NewListsPerMinute == 0 {
		c.NewListsPerMinute = DefaultNewListsPerMinute
	}
	if c.AntiEntropyInterval == 0 {
		c.AntiEntropyInterval = DefaultAntiEntropyInterval
	}
	if c.DeadAfter == 0 {
		c.DeadAfter = DefaultDeadAfter
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if err := CheckQuorum(c.N, c.W, c.R); err != nil {
		return c, err
	}
	switch {
	case c.ClientEndpoint == "" || c.PubEndpoint == "" || c.BackendEndpoint == "":
		return c, fmt.Errorf("%w: the client, PUB and backend endpoints are all required", ErrConfig)
	case c.Membership == nil:
		return c, fmt.Errorf("%w: a membership is required", ErrConfig)
	case c.Heartbeat < 0 || c.Liveness < 1 || c.Timeout < 0 || c.MaxInFlight < 1 || c.MaxSubscriptions < 1:
		return c, fmt.Errorf("%w: heartbeat, liveness, timeout, in-flight and subscription limits must be positive", ErrConfig)
	case c.MemoryBudget < MinMemoryBudget:
		return c, fmt.Errorf("%w: memory budget %d bytes is under the least a proxy needs, %d", ErrConfig, c.MemoryBudget, MinMemoryBudget)
	case c.InsecureBackend && c.InsecureClients && c.CurveSecretKey != "":
		return c, fmt.Errorf("%w: a CURVE key, but no socket uses CURVE", ErrConfig)
	case !(c.InsecureBackend && c.InsecureClients) && c.CurveSecretKey == "":
		return c, fmt.Errorf("%w: the backend and the client sockets need the proxy's CURVE secret key", ErrConfig)
	}
	if c.CurveSecretKey != "" {
		if _, err := curvekey.FromSecret(c.CurveSecretKey); err != nil {
			return c, fmt.Errorf("%w: %w", ErrConfig, err)
		}
	}
	return c, nil
}

// CheckQuorum enforces 1 <= W, R <= N <= MaxReplication and R + W > N, the
// condition under which every read quorum overlaps every write quorum.
func CheckQuorum(n, w, r int) error {
	switch {
	case n < 1 || n > protocol.MaxReplication:
		return fmt.Errorf("%w: N = %d, want 1 to %d", ErrConfig, n, protocol.MaxReplication)
	case w < 1 || w > n:
		return fmt.Errorf("%w: W = %d, want 1 to N = %d", ErrConfig, w, n)
	case r < 1 || r > n:
		return fmt.Errorf("%w: R = %d, want 1 to N = %d", ErrConfig, r, n)
	case r+w <= n:
		return fmt.Errorf("%w: R + W = %d + %d = %d must exceed N = %d, or a read may miss an acknowledged write", ErrConfig, r, w, r+w, n)
	}
	return nil
}
