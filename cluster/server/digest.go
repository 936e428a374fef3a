package server

import (
	"bytes"
	"fmt"
	"slices"

	"shoplist/protocol"
)

// digest answers an anti-entropy Digest, in a worker: for every bucket of
// the ring range, how many lists this server stores there and the sum of
// their hashes (crdt.StateHash of the canonical encoding a Fetch would
// return); for the wanted buckets, each list and its hash, sorted by list
// ID, at most protocol.MaxDigestEntries (Truncated says more were left
// out). The hashes come from the store's index (storage.Store.Digests),
// which reads only the lists written since their hash was last computed.
// A damaged list, which a Fetch would not serve either, is left out.
func (s *Server) digest(m protocol.Message) protocol.Message {
	b, err := protocol.DecodeDigestBody(m.Body)
	if err != nil {
		s.log.warn("digest-undecodable", "server: refused an undecodable digest", "err", err)
		return protocol.NewErrorFrom(m.RequestID, fmt.Errorf("digest body: %w", err))
	}
	lists, skipped, err := s.store.Digests(b.Start, b.End)
	if err != nil {
		return s.storageError(m, "digest", err)
	}
	if skipped > 0 {
		s.log.warn("digest-damaged", "server: damaged lists left out of a digest", "lists", skipped)
	}
	want := make([]bool, b.Buckets)
	for _, w := range b.Want {
		want[w] = true
	}
	body := protocol.DigestReplyBody{Buckets: make([]protocol.BucketSum, b.Buckets)}
	for _, l := range lists {
		i, ok := b.Bucket(l.Pos)
		if !ok {
			continue // Digests returns only the range; defensive
		}
		body.Buckets[i].Count++
		body.Buckets[i].Sum += l.Hash
		if want[i] {
			body.Entries = append(body.Entries, protocol.DigestEntry{List: l.List, Hash: l.Hash})
		}
	}
	slices.SortFunc(body.Entries, func(x, y protocol.DigestEntry) int { return bytes.Compare(x.List[:], y.List[:]) })
	if len(body.Entries) > protocol.MaxDigestEntries {
		body.Entries, body.Truncated = body.Entries[:protocol.MaxDigestEntries], true
	}
	reply, err := protocol.NewDigestReply(m.RequestID, 0, body)
	if err != nil {
		s.log.error("digest-encode", "server: cannot encode a digest reply", "err", err)
		return protocol.NewErrorFrom(m.RequestID, fmt.Errorf("digest reply: %w", err))
	}
	s.stats.digests.Add(1)
	return reply
}
