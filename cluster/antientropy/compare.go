package antientropy

import (
	"bytes"
	"cmp"
	"slices"

	"github.com/google/uuid"

	"shoplist/hashring"
	"shoplist/protocol"
)

// The comparisons of a round (round.go): pure functions of the owners'
// digest replies.

// differingBuckets returns, ascending, the buckets whose (Count, Sum) is
// not the same in every owner's digest. Every digest has Buckets buckets.
func differingBuckets(owners []string, digests map[string]protocol.DigestReplyBody) []int {
	first := digests[owners[0]].Buckets
	var out []int
	for i, b := range first {
		for _, id := range owners[1:] {
			if digests[id].Buckets[i] != b {
				out = append(out, i)
				break
			}
		}
	}
	return out
}

// listAt is a list and its offset in the range being compared.
type listAt struct {
	id  uuid.UUID
	off uint64
}

// differingLists returns the lists of the owners' entries that some owner
// lacks or holds with another hash, at or after offset from in the range
// that starts at position start, in ring order; truncated reports that a
// reply was truncated. A truncated reply lists only a prefix of its
// buckets' lists (by ID), so only IDs up to the smallest last ID of a
// truncated reply are compared: beyond it an absence proves nothing.
func differingLists(owners []string, digests map[string]protocol.DigestReplyBody, start, from uint64) (out []listAt, truncated bool) {
	var cutoff *uuid.UUID
	for _, id := range owners {
		d := digests[id]
		if !d.Truncated || len(d.Entries) == 0 {
			continue
		}
		last := d.Entries[len(d.Entries)-1].List
		if cutoff == nil || bytes.Compare(last[:], cutoff[:]) < 0 {
			cutoff = &last
		}
	}
	type seen struct {
		hash    uint64
		holders int
		differ  bool
	}
	lists := map[uuid.UUID]*seen{}
	for _, id := range owners {
		for _, e := range digests[id].Entries {
			if cutoff != nil && bytes.Compare(e.List[:], cutoff[:]) > 0 {
				break // entries are sorted by ID
			}
			s := lists[e.List]
			if s == nil {
				lists[e.List] = &seen{hash: e.Hash, holders: 1}
				continue
			}
			s.holders++
			s.differ = s.differ || s.hash != e.Hash
		}
	}
	for list, s := range lists {
		if off := hashring.Position(list.String()) - start - 1; off >= from && (s.differ || s.holders < len(owners)) {
			out = append(out, listAt{id: list, off: off})
		}
	}
	slices.SortFunc(out, func(a, b listAt) int {
		if c := cmp.Compare(a.off, b.off); c != 0 {
			return c
		}
		return bytes.Compare(a.id[:], b.id[:])
	})
	return out, cutoff != nil
}
