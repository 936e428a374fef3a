package proxy

import (
	"context"
	"maps"
	"slices"
	"time"

	"shoplist/cluster/antientropy"
	"shoplist/hashring"
)

// Status is what a proxy knows of the ring and its servers, for operators
// (`proxy status`) and tests.
type Status struct {
	Epoch     uint64    `json:"epoch"`
	N         int       `json:"n"`
	VNodes    int       `json:"vnodes"`
	Endpoints Endpoints `json:"endpoints"`
	// Proxies are the client endpoints of every proxy of the group, as
	// Welcomes list them.
	Proxies []string `json:"proxies"`
	// Leader is true when this proxy leads its group (removals,
	// anti-entropy); always true for a single proxy.
	Leader bool `json:"leader"`
	// Servers holds every member and every connected server that is not
	// one, sorted by ID.
	Servers     []ServerStatus    `json:"servers"`
	AntiEntropy antientropy.Stats `json:"anti_entropy"`
	Counters    Counters          `json:"counters"`
}

// ServerStatus is one server as the proxy sees it.
type ServerStatus struct {
	ID string `json:"id"`
	// State is "active" (placed on the ring), "leaving" (handing its lists
	// over, owns nothing) or "" (connected, not a member).
	State string `json:"state"`
	// Up means requests are routed to it: it was welcomed and has not been
	// silent for Liveness intervals.
	Up bool `json:"up"`
	// LastSeen is when its last message came; zero if never.
	LastSeen time.Time `json:"last_seen"`
	// Reported says whether it has sent a ServerReport; Lists, Hints and
	// Moving are from the latest, sent at ReportEpoch at ReportedAt.
	Reported    bool      `json:"reported"`
	Lists       uint64    `json:"lists"`
	Hints       uint64    `json:"hints"`
	Moving      uint64    `json:"moving"`
	ReportEpoch uint64    `json:"report_epoch"`
	ReportedAt  time.Time `json:"reported_at"`
	// Healed, Damaged and Reset are from the latest report too: how many
	// times the server healed a list since it started (dropped corrupt
	// values, which the other replicas make whole again), how many lists
	// it refuses as damaged until an operator repairs them, and whether it
	// started on an empty store after setting a corrupt one aside.
	Healed  uint64 `json:"healed"`
	Damaged uint64 `json:"damaged"`
	Reset   bool   `json:"reset"`
	// Positions are its virtual nodes' ring positions (active members).
	Positions []uint64 `json:"positions"`
	// Ranges are the arcs of the ring on which it is one of the N owners,
	// and Share the fraction of the ring they cover.
	Ranges []hashring.Range `json:"ranges"`
	Share  float64          `json:"share"`
}

// Counters count what the proxy did since it started.
type Counters struct {
	Pushes uint64 `json:"pushes"`
	Pulls  uint64 `json:"pulls"`
	// Unchanged counts the pulls answered Unchanged: the client named the
	// merged state by its hash and was not sent it again.
	Unchanged uint64 `json:"unchanged"`
	Failed    uint64 `json:"failed"` // client requests answered with an error
	Published uint64 `json:"published"`
	// Repairs counts read repairs sent, RepairsSkipped those skipped
	// because a push to the list was in progress, Rereads the lists read
	// again for a repair because some replicas answered a pull Unchanged
	// and others with a state of their own.
	Repairs        uint64 `json:"repairs"`
	RepairsSkipped uint64 `json:"repairs_skipped"`
	Rereads        uint64 `json:"rereads"`
	// PulledPlain counts the pulls asked again without the client's
	// state, because some owners answered Unchanged and others with a
	// state the client lacks.
	PulledPlain uint64 `json:"pulled_plain"`
	// HintedStores counts sloppy-quorum writes to fallbacks, Handoffs the
	// hints delivered to their owners, HandoffsFailed those refused.
	HintedStores   uint64 `json:"hinted_stores"`
	Handoffs       uint64 `json:"handoffs"`
	HandoffsFailed uint64 `json:"handoffs_failed"`
	// Announced counts EpochAnnounces sent, StaleEpoch the requests a
	// server refused as routed under an older epoch, Rerouted the client
	// requests routed again under a newer epoch after such a refusal,
	// Reports the ServerReports received, Removals the dead or drained
	// servers this proxy removed.
	Announced  uint64 `json:"announced"`
	StaleEpoch uint64 `json:"stale_epoch"`
	Rerouted   uint64 `json:"rerouted"`
	Reports    uint64 `json:"reports"`
	Removals   uint64 `json:"removals"`
	// HandshakesAdmitted and HandshakesRefused count the backend's CURVE
	// handshakes the proxy accepted and refused (a key not admitted);
	// NotAdmitted counts hellos and requests refused because their
	// connection's key is not admitted under the ID they claim.
	HandshakesAdmitted uint64 `json:"handshakes_admitted"`
	HandshakesRefused  uint64 `json:"handshakes_refused"`
	NotAdmitted        uint64 `json:"not_admitted"`
	// Relayed counts live updates sent to other proxies to publish.
	Relayed uint64 `json:"relayed"`
	// SubscriptionsRefused counts live-update subscriptions not applied
	// because their client key held Config.MaxSubscriptions topics.
	SubscriptionsRefused uint64 `json:"subscriptions_refused"`
	// The memory budget (budget.go): MemoryHeld is the bytes counted now,
	// held and queued, of MemoryLimit (what may be counted); Clients the
	// client connections with an account. MemoryRefused counts requests
	// refused for it, MemoryDropped the answers and replies dropped,
	// ClientsForgotten the accounts of clients found gone. RepairsOverBudget
	// and HandoffsOverBudget count read repairs skipped and handoffs refused
	// for lack of room; LiveTooLarge the pushes too large to publish.
	MemoryHeld         int64  `json:"memory_held"`
	MemoryLimit        int64  `json:"memory_limit"`
	Clients            int    `json:"clients"`
	MemoryRefused      uint64 `json:"memory_refused"`
	MemoryDropped      uint64 `json:"memory_dropped"`
	ClientsForgotten   uint64 `json:"clients_forgotten"`
	RepairsOverBudget  uint64 `json:"repairs_over_budget"`
	HandoffsOverBudget uint64 `json:"handoffs_over_budget"`
	LiveTooLarge       uint64 `json:"live_too_large"`
	// NewListsRefused counts pushes refused past a client's cap on new
	// lists (newlists.go).
	NewListsRefused uint64 `json:"new_lists_refused"`
}

// Status returns the proxy's view of the ring and its servers.
func (p *Proxy) Status(ctx context.Context) (Status, error) {
	var st Status
	if err := p.do(ctx, func(l *loop) { st = l.status() }); err != nil {
		return Status{}, err
	}
	return st, nil
}

// status builds the Status, in the loop.
func (l *loop) status() Status {
	v := l.ring.view
	st := Status{
		Epoch:       v.Epoch,
		N:           l.cfg.N,
		VNodes:      v.Ring.VNodes(),
		Endpoints:   l.endpoints,
		Proxies:     l.clientEndpoints(),
		Leader:      l.ring.leader.IsLeader(),
		AntiEntropy: l.ae.Stats(),
		Counters: Counters{
			Pushes: l.stats.pushes, Pulls: l.stats.pulls, Unchanged: l.stats.unchanged, Failed: l.stats.failed, Published: l.stats.published,
			Repairs: l.stats.repairs, RepairsSkipped: l.stats.repairsSkipped, Rereads: l.stats.rereads, PulledPlain: l.stats.pulledPlain,
			HintedStores: l.stats.hinted, Handoffs: l.stats.handoffs, HandoffsFailed: l.stats.handoffsFailed,
			Announced: l.stats.announced, StaleEpoch: l.stats.staleEpoch, Rerouted: l.stats.rerouted, Reports: l.stats.reports, Removals: l.stats.removals,
			NotAdmitted: l.stats.notAdmitted, SubscriptionsRefused: l.subs.refused, Relayed: l.stats.relayed,

			MemoryHeld: l.mem.total, MemoryLimit: l.mem.limit, Clients: len(l.mem.clients),
			MemoryRefused: l.mem.refused, MemoryDropped: l.mem.dropped, ClientsForgotten: l.mem.forgotten,
			RepairsOverBudget: l.stats.repairsOverBudget, HandoffsOverBudget: l.stats.handoffsOverBudget,
			LiveTooLarge: l.stats.liveTooLarge, NewListsRefused: l.newLists.refused,
		},
	}
	if l.gate != nil {
		st.Counters.HandshakesAdmitted, st.Counters.HandshakesRefused = l.gate.admitted.Load(), l.gate.refused.Load()
	}
	ids := map[string]bool{}
	for _, id := range slices.Concat(v.Ring.Servers(), v.Leaving) {
		ids[id] = true
	}
	for id := range l.peers.byID {
		ids[id] = true
	}
	st.Servers = []ServerStatus{} // empty, not null, in JSON
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		s := ServerStatus{ID: id, Positions: []uint64{}, Ranges: []hashring.Range{}}
		switch {
		case v.Active(id):
			s.State = "active"
			s.Positions = append(s.Positions, v.Ring.Positions(id)...)
			s.Ranges = append(s.Ranges, v.Ring.OwnedRanges(id, l.cfg.N)...)
			for _, g := range s.Ranges {
				s.Share += g.Fraction()
			}
		case v.IsLeaving(id):
			s.State = "leaving"
		}
		if pr := l.peers.byID[id]; pr != nil {
			s.Up = pr.usable()
			s.LastSeen = pr.lastSeen
			if r := pr.report; !r.at.IsZero() {
				s.Reported, s.Lists, s.Hints, s.Moving = true, r.Lists, r.Hints, r.Moving
				s.ReportEpoch, s.ReportedAt = r.epoch, r.at
				s.Healed, s.Damaged, s.Reset = r.Healed, r.Damaged, r.Reset
			}
		}
		st.Servers = append(st.Servers, s)
	}
	return st
}

// memberStatus lists the ring's members with their liveness.
func (l *loop) memberStatus() []MemberStatus {
	ids := slices.Sorted(slices.Values(l.ring.view.Ring.Servers()))
	out := make([]MemberStatus, len(ids))
	for i, id := range ids {
		pr := l.peers.byID[id]
		out[i] = MemberStatus{ID: id, Up: pr != nil && pr.usable()}
	}
	return out
}
