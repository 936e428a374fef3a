package hashring

import "slices"

// Positions returns the positions of server's virtual nodes, ascending
// (tied positions included, though a tie lost to a smaller ID owns
// nothing). It is nil for a server that is not a member.
func (r *Ring) Positions(server string) []uint64 {
	s, ok := slices.BinarySearch(r.servers, server)
	if !ok {
		return nil
	}
	var out []uint64
	for i, o := range r.owner {
		if o == s {
			out = append(out, r.pos[i])
		}
	}
	return out
}

// OwnedRanges returns the maximal arcs of the ring on which server is one
// of the n owners of a position, that is the positions p for which
// OwnersAt(p, n) contains server. The arcs are in ring order, by End, the
// arc wrapping past 0 (if any) first, each with Server set to server; an
// arc with Start == End is the whole ring. The result is nil for a server
// that is not a member or n <= 0.
func (r *Ring) OwnedRanges(server string, n int) []Range {
	if !r.Has(server) || n <= 0 {
		return nil
	}
	// Between consecutive distinct vnode positions the preference list is
	// constant: the arc (d[i-1], d[i]] is owned like d[i] itself.
	d := slices.Compact(slices.Clone(r.pos))
	var out []Range
	prev := d[len(d)-1]
	for _, p := range d {
		if slices.Contains(r.OwnersAt(p, n), server) {
			if k := len(out) - 1; k >= 0 && out[k].End == prev {
				out[k].End = p
			} else {
				out = append(out, Range{Server: server, Start: prev, End: p})
			}
		}
		prev = p
	}
	if k := len(out) - 1; k > 0 && out[k].End == out[0].Start {
		out[0].Start = out[k].Start // join the arcs on either side of 0
		out = out[:k]
	}
	return out
}

// OwnedShare returns the fraction of the ring on which server is one of
// the n owners: the sum of the fractions of OwnedRanges(server, n).
func (r *Ring) OwnedShare(server string, n int) float64 {
	var f float64
	for _, g := range r.OwnedRanges(server, n) {
		f += g.Fraction()
	}
	return f
}

// Has reports whether server is a member of the ring.
func (r *Ring) Has(server string) bool {
	_, ok := slices.BinarySearch(r.servers, server)
	return ok
}
