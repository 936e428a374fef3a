package hashring

import (
	"cmp"
	"slices"
	"strconv"
)

// DefaultVNodes is the number of virtual nodes per server used by New unless
// WithVNodes says otherwise.
const DefaultVNodes = 3

// HashFunc maps a string to a position on the ring.
type HashFunc func(string) uint64

// Option configures New.
type Option func(*config)

type config struct {
	vnodes int
	hash   HashFunc
}

// WithVNodes sets the number of virtual nodes per server. It panics if v < 1.
func WithVNodes(v int) Option {
	if v < 1 {
		panic("hashring: WithVNodes: v must be >= 1, got " + strconv.Itoa(v))
	}
	return func(c *config) { c.vnodes = v }
}

// WithHash replaces Position as the hash function, for both virtual-node
// labels and keys. It exists so tests can use positions computable by hand.
// It panics if h is nil.
func WithHash(h HashFunc) Option {
	if h == nil {
		panic("hashring: WithHash: nil hash function")
	}
	return func(c *config) { c.hash = h }
}

// Ring is an immutable consistent-hash ring. The zero value is not usable;
// build one with New. All methods are safe for concurrent use.
type Ring struct {
	cfg     config
	servers []string // distinct server IDs, sorted
	pos     []uint64 // virtual-node positions, ascending
	owner   []int    // owner[i] indexes servers; equal positions ordered by ID
}

// New builds a ring of the given servers. Duplicate IDs are ignored and the
// input order does not matter. Virtual node i (1-based) of server S is placed
// at hash("S-i"); virtual nodes landing on the same position are ordered by
// server ID, so the smallest ID wins that position.
func New(servers []string, opts ...Option) *Ring {
	cfg := config{vnodes: DefaultVNodes, hash: Position}
	for _, o := range opts {
		o(&cfg)
	}
	return build(servers, cfg)
}

func build(servers []string, cfg config) *Ring {
	ids := slices.Clone(servers)
	slices.Sort(ids)
	ids = slices.Compact(ids)

	type vnode struct {
		pos   uint64
		owner int
	}
	vs := make([]vnode, 0, len(ids)*cfg.vnodes)
	for s, id := range ids {
		for i := 1; i <= cfg.vnodes; i++ {
			vs = append(vs, vnode{cfg.hash(vnodeLabel(id, i)), s})
		}
	}
	slices.SortFunc(vs, func(a, b vnode) int {
		return cmp.Or(cmp.Compare(a.pos, b.pos), cmp.Compare(a.owner, b.owner))
	})

	r := &Ring{
		cfg:     cfg,
		servers: ids,
		pos:     make([]uint64, len(vs)),
		owner:   make([]int, len(vs)),
	}
	for i, v := range vs {
		r.pos[i], r.owner[i] = v.pos, v.owner
	}
	return r
}

// vnodeLabel is the string hashed to place virtual node i of server id.
func vnodeLabel(id string, i int) string {
	return id + "-" + strconv.Itoa(i)
}

// With returns a ring with the same options whose members are r's servers
// plus the given ones. r itself is unchanged.
func (r *Ring) With(servers ...string) *Ring {
	return build(append(slices.Clone(r.servers), servers...), r.cfg)
}

// Without returns a ring with the same options whose members are r's servers
// minus the given ones. r itself is unchanged.
func (r *Ring) Without(servers ...string) *Ring {
	keep := slices.DeleteFunc(slices.Clone(r.servers), func(s string) bool {
		return slices.Contains(servers, s)
	})
	return build(keep, r.cfg)
}

// Owners returns the preference list of key: the first n distinct servers
// walking clockwise from the key's position. If n exceeds the number of
// servers, every server is returned; if n <= 0 or the ring is empty, nil.
func (r *Ring) Owners(key string, n int) []string {
	return r.OwnersAt(r.cfg.hash(key), n)
}

// OwnersAt is Owners for a ring position instead of a key.
func (r *Ring) OwnersAt(pos uint64, n int) []string {
	n = min(n, len(r.servers))
	if n <= 0 {
		return nil
	}
	i, _ := slices.BinarySearch(r.pos, pos) // first vnode with position >= pos
	var buf [8]int
	seen := buf[:0]
	out := make([]string, 0, n)
	// Every server has a vnode and n <= len(servers): this ends within a lap.
	for ; len(out) < n; i++ {
		if i == len(r.pos) {
			i = 0
		}
		if s := r.owner[i]; !slices.Contains(seen, s) {
			seen = append(seen, s)
			out = append(out, r.servers[s])
		}
	}
	return out
}

// Servers returns the member server IDs, sorted.
func (r *Ring) Servers() []string { return slices.Clone(r.servers) }

// Len returns the number of servers.
func (r *Ring) Len() int { return len(r.servers) }

// VNodes returns the number of virtual nodes per server.
func (r *Ring) VNodes() int { return r.cfg.vnodes }
