package proxy

// Routing: the servers an op's calls go to.

// target is a server a request goes to: an owner (forOwn "") or a fallback
// standing in for the down owner forOwn.
type target struct {
	pr     *peer
	forOwn string
}

// route picks the servers for a request on a list with preference list
// owners: every usable owner and, when sloppy, for each owner that is down
// or not connected the next usable server clockwise on the ring beyond the
// preference list that is not already a target (sloppy quorum). Owners left
// without a stand-in are recorded as failures.
func (l *loop) route(o *op, owners []string, sloppy bool) []target {
	o.replicas = len(owners)
	type absent struct{ id, why string }
	var targets []target
	var missing []absent
	for _, id := range owners {
		pr := l.peers.byID[id]
		switch {
		case pr == nil || !pr.welcomed:
			missing = append(missing, absent{id, "not connected"})
		case pr.down:
			missing = append(missing, absent{id, "down"})
		default:
			targets = append(targets, target{pr: pr})
		}
	}
	var walk []string // the servers beyond the preference list, clockwise
	if sloppy && len(missing) > 0 {
		walk = l.ring.view.Ring.Owners(o.list.String(), l.ring.view.Ring.Len())[len(owners):]
	}
	for _, a := range missing {
		for len(walk) > 0 && !l.usable(walk[0]) {
			walk = walk[1:]
		}
		if len(walk) == 0 {
			why := a.id + ": " + a.why
			if sloppy {
				why += ", and no fallback server is up"
			}
			o.failures = append(o.failures, why)
			continue
		}
		targets = append(targets, target{pr: l.peers.byID[walk[0]], forOwn: a.id})
		walk = walk[1:]
	}
	return targets
}

// usable reports whether requests may be routed to the server id.
func (l *loop) usable(id string) bool {
	pr := l.peers.byID[id]
	return pr != nil && pr.usable()
}
