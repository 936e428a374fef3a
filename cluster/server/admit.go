package server

import (
	"errors"
	"fmt"
	"slices"

	"shoplist/hashring"
	"shoplist/protocol"
)

// Which Stores a server takes. A Store (from a client's push, a read
// repair, anti-entropy or a delivered Handoff) is for an owner of the list;
// a server that is not one keeps a copy only with a hint that moves it on
// (HintedStore, or the move hints of a rebalance pass). The loop refuses a
// request routed under an epoch older than the server's when it queues it
// (dispatch.go), but a Store queued just before the server adopts a newer
// epoch is served after: had it committed after the rebalance pass for
// that epoch scanned the stored lists, it would leave a copy that the
// server does not own and that no hint covers. Anti-entropy compares only
// owners, so nothing would ever move it, and a leaving server holding it
// would never report empty.
//
// So the worker checks ownership again where the write commits: under the
// list's stripe lock (storage.Store.SaveMergeIf), against the ring adopted
// by then. A Store routed under an epoch older than that ring, for a list
// the ring does not give this server, is refused with StaleEpoch and
// nothing is written (the proxy routes it again under the newer epoch:
// cluster/proxy/op.go); routed under that very epoch, it is refused with
// NotFound (the proxy never routes one so). A Store routed under a newer
// epoch than the server's is taken: the pass for that epoch, once adopted,
// sees it. The rebalance pass fences the stripes (storage.Store.Fence)
// after it loads the new ring and before it scans, so every write checked
// against the older ring is in its scan, and every later one is checked
// against the new ring. Checking again after the queue drains would not
// do: the queue need not drain while requests keep coming, a request a
// worker has taken is in no queue, and a second scan of every list costs
// what the first did.

// errNotOwner refuses a Store the adopted ring does not give this server.
type errNotOwner struct {
	routed, adopted uint64 // the Store's epoch and the ring's
}

func (e *errNotOwner) Error() string {
	if e.routed < e.adopted {
		return fmt.Sprintf("routed under epoch %d; this server has adopted epoch %d, whose ring does not make it an owner of the list", e.routed, e.adopted)
	}
	return fmt.Sprintf("this server is not an owner of the list at epoch %d", e.adopted)
}

// code is the protocol's code for the refusal.
func (e *errNotOwner) code() protocol.ErrorCode {
	if e.routed < e.adopted {
		return protocol.CodeStaleEpoch
	}
	return protocol.CodeNotFound
}

// admitStore is the check SaveMergeIf runs under the list's lock for the
// Store m: nil if this server may keep what m brings.
func (s *Server) admitStore(m protocol.Message) error {
	r := s.ring.Load()
	if r == nil || m.Epoch == 0 || m.Epoch > r.epoch {
		return nil // no ring yet, an unrouted Store, or a proxy ahead of this server
	}
	if owners := r.ownersAt(hashring.Position(m.ListID.String())); !slices.Contains(owners, s.id) {
		return &errNotOwner{routed: m.Epoch, adopted: r.epoch}
	}
	if s.cfg.admitted != nil {
		s.cfg.admitted()
	}
	return nil
}

// notOwnerReply is the Error answering a Store admitStore refused, or
// false if err is another error.
func (s *Server) notOwnerReply(m protocol.Message, err error) (protocol.Message, bool) {
	var no *errNotOwner
	if !errors.As(err, &no) {
		return protocol.Message{}, false
	}
	s.log.warn("store-not-owner", "server: refused a store for a list this server does not own", "list", m.ListID, "err", err)
	return protocol.NewError(m.RequestID, no.code(), no.Error()), true
}
