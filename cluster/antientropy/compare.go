package antientropy

import (
	"bytes"
	"slices"

	"github.com/google/uuid"

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

// wantBuckets returns the prefix of the differing buckets whose entries fit
// in one DigestReply from every owner (at least one bucket: a bucket with
// more lists than fit is listed as far as it fits, the rest left for a
// later round).
func wantBuckets(differ []int, owners []string, digests map[string]protocol.DigestReplyBody) []int {
	total := uint64(0)
	for i, b := range differ {
		most := uint64(0)
		for _, id := range owners {
			most = max(most, digests[id].Buckets[b].Count)
		}
		if total += most; total > protocol.MaxDigestEntries && i > 0 {
			return differ[:i]
		}
	}
	return differ
}

// differingLists returns, sorted by ID bytes, the lists of the owners'
// entries that some owner lacks or holds with another hash, at most limit
// of them. A truncated reply lists only a prefix of its buckets' lists (by
// ID), so only IDs up to the smallest last ID of a truncated reply are
// compared: beyond it an absence proves nothing.
func differingLists(owners []string, digests map[string]protocol.DigestReplyBody, limit int) []uuid.UUID {
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
	var out []uuid.UUID
	for list, s := range lists {
		if s.differ || s.holders < len(owners) {
			out = append(out, list)
		}
	}
	slices.SortFunc(out, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}
