package hashring

import "fmt"

// ringSize is the number of positions on the ring, 2^64.
const ringSize = 1 << 64

// Range is the arc (Start, End] of the ring that Server owns as primary: the
// positions p with Start < p <= End, wrapping past 2^64-1 to 0 when
// Start >= End. Start == End denotes the whole ring.
type Range struct {
	Server string `json:"server"`
	Start  uint64 `json:"start"`
	End    uint64 `json:"end"`
}

// Contains reports whether position pos lies in g.
func (g Range) Contains(pos uint64) bool {
	if g.Start < g.End {
		return g.Start < pos && pos <= g.End
	}
	return pos > g.Start || pos <= g.End
}

// Fraction returns the fraction of the ring's 2^64 positions that g covers.
func (g Range) Fraction() float64 {
	if g.Start == g.End {
		return 1
	}
	return float64(g.End-g.Start) / ringSize // uint64 subtraction wraps
}

// String formats g as "server (0xstart, 0xend]".
func (g Range) String() string {
	return fmt.Sprintf("%s (0x%016x, 0x%016x]", g.Server, g.Start, g.End)
}

// Ranges returns the maximal arcs each server owns as primary, that is the
// positions p for which OwnersAt(p, 1) is that server. The arcs partition the
// ring; they are returned in ring order, by End, so the arc wrapping past 0
// (if any) comes first. A server whose virtual nodes all tie with smaller IDs
// owns no arc. The result is nil for an empty ring.
func (r *Ring) Ranges() []Range {
	n := len(r.pos)
	if n == 0 {
		return nil
	}
	var out []Range
	prev := r.pos[n-1]
	for i, p := range r.pos {
		if i > 0 && p == r.pos[i-1] {
			continue // tie: the earlier vnode (smaller ID) owns p
		}
		s := r.servers[r.owner[i]]
		if k := len(out) - 1; k >= 0 && out[k].Server == s {
			out[k].End = p
		} else {
			out = append(out, Range{Server: s, Start: prev, End: p})
		}
		prev = p
	}
	if k := len(out) - 1; k > 0 && out[0].Server == out[k].Server {
		out[0].Start = out[k].Start // join the arcs on either side of 0
		out = out[:k]
	}
	return out
}

// Shares returns, for every server, the fraction of the ring it owns as
// primary. The fractions sum to 1 (up to rounding) unless the ring is empty.
func (r *Ring) Shares() map[string]float64 {
	m := make(map[string]float64, len(r.servers))
	for _, s := range r.servers {
		m[s] = 0
	}
	for _, g := range r.Ranges() {
		m[g.Server] += g.Fraction()
	}
	return m
}
