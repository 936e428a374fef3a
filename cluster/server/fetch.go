package server

import (
	"errors"

	"shoplist/crdt"
	"shoplist/protocol"
	"shoplist/storage"
)

// Answering a Fetch. A Fetch made for a client's Pull may name, by its
// crdt.StateHash, the state that client holds (a protocol.PullBody); a
// replica in that very state answers Unchanged, so that neither its bytes
// nor their decoding at the proxy are spent on a state the client has.

// fetchKnown returns the hash a Fetch names, if it names one; a body that
// is not a PullBody is an error.
func fetchKnown(m protocol.Message) (known uint64, named bool, err error) {
	if len(m.Body) == 0 {
		return 0, false, nil
	}
	b, err := protocol.DecodePullBody(m.Body)
	if err != nil {
		return 0, false, err
	}
	return b.Known, true, nil
}

// cachedFetch answers Fetch m from the store's cache of encodings, which
// never touches the disk, so the loop may call it; ok is false on a miss.
// m's body has been checked (fetchKnown).
func (s *Server) cachedFetch(m protocol.Message) (answer protocol.Message, ok bool) {
	known, named, _ := fetchKnown(m)
	if !named {
		enc, ok := s.store.CachedEncoded(m.ListID)
		return protocol.NewFetchReply(m.RequestID, m.ListID, enc), ok
	}
	enc, hash, ok := s.store.CachedState(m.ListID)
	if ok && hash == known {
		return protocol.NewUnchanged(m.RequestID, m.ListID), true
	}
	return protocol.NewFetchReply(m.RequestID, m.ListID, enc), ok
}

// fetchList answers Fetch m from the store: with the replica's canonical
// encoding, an empty FetchReply if the server holds nothing of the list,
// or Unchanged if the replica is the state m names.
func (s *Server) fetchList(m protocol.Message) protocol.Message {
	known, named, err := fetchKnown(m)
	if err != nil {
		return protocol.NewErrorFrom(m.RequestID, err)
	}
	enc, err := s.store.LoadEncoded(m.ListID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return protocol.NewFetchReply(m.RequestID, m.ListID, nil)
	case err != nil:
		return s.storageError(m, "fetch", err)
	case named && crdt.StateHash(enc) == known:
		return protocol.NewUnchanged(m.RequestID, m.ListID)
	}
	return protocol.NewFetchReply(m.RequestID, m.ListID, enc)
}
