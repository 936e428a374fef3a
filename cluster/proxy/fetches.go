package proxy

import "shoplist/protocol"

// The Fetches a read sends: a client's pull, the same pull asked again
// without the client's state (pullPlain), and a read for repair alone
// (reread).

// startFetches starts read o on the list's owners under the current ring,
// stood in for by fallbacks if sloppy (route).
func (l *loop) startFetches(o *op, sloppy bool) {
	owners := l.ring.view.Ring.Owners(o.list.String(), l.cfg.N)
	epoch := l.ring.view.Epoch
	l.start(o, l.route(o, owners, sloppy), func(id uint64, _ target) (protocol.Message, error) {
		return o.fetch(id, epoch), nil
	})
}

// namesState reports whether pull o names the client's state in its
// Fetches, so that owners may answer Unchanged.
func (o *op) namesState() bool { return o.kind == opPull && o.known != nil && !o.plain }

// fetch returns the Fetch pull o sends a replica: naming the state its
// client holds, if it names it.
func (o *op) fetch(reqID, epoch uint64) protocol.Message {
	if o.namesState() {
		return protocol.NewFetchKnown(reqID, epoch, o.list, *o.known)
	}
	return protocol.NewFetch(reqID, epoch, o.list)
}
