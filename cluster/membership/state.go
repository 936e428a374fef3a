package membership

import (
	"fmt"
	"maps"
	"slices"

	"shoplist/cluster/placement"
	"shoplist/hashring"
	"shoplist/protocol"
)

// Limits of the replicated state, enforced by Apply so that every state a
// log can produce is one a snapshot can hold.
const (
	// MaxMembers bounds the ring's members (the protocol's EpochAnnounce
	// limit).
	MaxMembers = protocol.MaxMembers
	// MaxRemoved bounds the remembered removed servers.
	MaxRemoved = 1 << 16
)

// State is a member server's state in the replicated membership.
type State uint8

// Member states. Values are part of the log and snapshot encodings.
const (
	// Active: the server owns its virtual nodes and serves them.
	Active State = 1
	// Leaving: the server keeps its place and serves while its ranges are
	// handed over; a later Remove takes it out.
	Leaving State = 2
)

// String returns "active" or "leaving".
func (s State) String() string {
	switch s {
	case Active:
		return "active"
	case Leaving:
		return "leaving"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// MarshalText returns the state's name, so JSON shows "active" or
// "leaving".
func (s State) MarshalText() ([]byte, error) {
	switch s {
	case Active, Leaving:
		return []byte(s.String()), nil
	}
	return nil, fmt.Errorf("membership: unknown member state %d", uint8(s))
}

// UnmarshalText parses "active" or "leaving".
func (s *State) UnmarshalText(p []byte) error {
	switch string(p) {
	case "active":
		*s = Active
	case "leaving":
		*s = Leaving
	default:
		return fmt.Errorf("membership: unknown member state %q", p)
	}
	return nil
}

// Protocol returns the state's wire value in an EpochAnnounce.
func (s State) Protocol() protocol.MemberState {
	if s == Leaving {
		return protocol.MemberLeaving
	}
	return protocol.MemberUp
}

// Member is one server of the ring and its state.
type Member struct {
	ID    string `json:"id"`
	State State  `json:"state"`
}

// state is the replicated state. Its methods are pure: apply depends only
// on the state and the command, which is what makes the FSM deterministic.
// It is not safe for concurrent use; fsm guards it.
type state struct {
	epoch   uint64
	n       int // replicas per list; 0 until configured
	vnodes  int // virtual nodes per server; 0 until configured
	members map[string]State
	removed map[string]bool
	proxies map[string]ProxyInfo // the group's proxies, by ID
	// admitted binds each storage server admitted to the backend to its
	// CURVE public key (admitted.go).
	admitted map[string]string
}

func newState() *state {
	return &state{members: map[string]State{}, removed: map[string]bool{}, proxies: map[string]ProxyInfo{}, admitted: map[string]string{}}
}

// clone returns a deep copy.
func (s *state) clone() *state {
	c := *s
	c.members = maps.Clone(s.members)
	c.removed = maps.Clone(s.removed)
	c.proxies = maps.Clone(s.proxies)
	c.admitted = maps.Clone(s.admitted)
	return &c
}

func (s *state) configured() bool { return s.n > 0 }

// apply executes c. It returns whether the state changed (and so the epoch
// grew by one, or was set by an import, unless c records a proxy or admits
// or revokes a server, which leave the ring and its epoch alone), or the
// error that rejects c, in which case nothing changed: every check comes
// before the first write.
func (s *state) apply(c command) (bool, error) {
	switch c.op {
	case opProxy:
		return s.applyProxy(c.proxy)
	case opAdmit:
		return s.applyAdmit(Admitted{ID: c.id, Key: c.key})
	case opRevoke:
		return s.applyRevoke(c.id)
	}
	if c.op == opImport {
		if s.configured() {
			return false, fmt.Errorf("%w: epoch %d", ErrAlreadyConfigured, s.epoch)
		}
		seed, err := decodeState([]byte(c.seed))
		if err != nil { // decodeCommand checked it; a command built otherwise may not be
			return false, err
		}
		if !seed.configured() || seed.epoch == 0 {
			return false, fmt.Errorf("%w: import of an unconfigured state", ErrMalformed)
		}
		// The proxies recorded and the servers admitted so far are this
		// group's: they stay, over any the seed carries.
		proxies := seed.proxies
		maps.Copy(proxies, s.proxies)
		if len(proxies) > MaxProxies {
			return false, fmt.Errorf("%w: import would record %d proxies, at most %d allowed", ErrFull, len(proxies), MaxProxies)
		}
		admitted := mergeAdmitted(seed.admitted, s.admitted, seed.removed)
		if len(admitted) > MaxAdmitted {
			return false, fmt.Errorf("%w: import would admit %d servers, at most %d allowed", ErrFull, len(admitted), MaxAdmitted)
		}
		*s = *seed
		s.proxies, s.admitted = proxies, admitted
		return true, nil
	}
	if c.op == opConfigure {
		switch {
		case !s.configured():
			s.n, s.vnodes = c.n, c.vnodes
			s.epoch++
			return true, nil
		case s.n == c.n && s.vnodes == c.vnodes:
			return false, nil
		}
		return false, fmt.Errorf("%w: committed n = %d, vnodes = %d; asked n = %d, vnodes = %d",
			ErrConfigMismatch, s.n, s.vnodes, c.n, c.vnodes)
	}
	if !s.configured() {
		return false, fmt.Errorf("%w: %s %s", ErrNotConfigured, c.op, c.id)
	}
	_, member := s.members[c.id]
	switch c.op {
	case opJoin:
		switch {
		case member:
			return false, nil
		case s.removed[c.id]:
			return false, fmt.Errorf("%w: %s; start it with a fresh data directory (a new ID) to rejoin", placement.ErrRemoved, c.id)
		case len(s.members) >= MaxMembers:
			return false, fmt.Errorf("%w: %d members, at most %d allowed", ErrFull, len(s.members), MaxMembers)
		}
		s.members[c.id] = Active
	case opLeave:
		switch {
		case !member:
			return false, fmt.Errorf("%w: %s", placement.ErrNotMember, c.id)
		case s.members[c.id] == Leaving:
			return false, nil
		}
		s.members[c.id] = Leaving
	case opRemove:
		switch {
		case !member:
			return false, fmt.Errorf("%w: %s", placement.ErrNotMember, c.id)
		case len(s.removed) >= MaxRemoved:
			return false, fmt.Errorf("%w: %d removed servers remembered, at most %d allowed", ErrFull, len(s.removed), MaxRemoved)
		}
		delete(s.members, c.id)
		delete(s.admitted, c.id) // a removed server never rejoins
		s.removed[c.id] = true
	default:
		return false, fmt.Errorf("%w: %d", ErrUnknownOp, uint8(c.op))
	}
	s.epoch++
	return true, nil
}

// sortedMembers returns the members sorted by ID.
func (s *state) sortedMembers() []Member {
	out := make([]Member, 0, len(s.members))
	for _, id := range slices.Sorted(maps.Keys(s.members)) {
		out = append(out, Member{ID: id, State: s.members[id]})
	}
	return out
}

// sortedRemoved returns the removed server IDs, sorted.
func (s *state) sortedRemoved() []string { return slices.Sorted(maps.Keys(s.removed)) }

// view builds the view of the state: a ring of the active members only
// (a leaving server is still a member but owns nothing, so it is not
// placed), the leaving members sorted, and the proxies' client endpoints
// in the order of their IDs. Before the state is configured the ring is
// empty with defaultVNodes.
func (s *state) view(defaultVNodes int) placement.View {
	vnodes := s.vnodes
	if !s.configured() {
		vnodes = defaultVNodes
	}
	var active, leaving []string
	for _, m := range s.sortedMembers() {
		if m.State == Leaving {
			leaving = append(leaving, m.ID)
		} else {
			active = append(active, m.ID)
		}
	}
	return placement.View{
		Ring:     hashring.New(active, hashring.WithVNodes(vnodes)),
		Epoch:    s.epoch,
		Leaving:  leaving,
		Proxies:  s.clientEndpoints(),
		Admitted: placement.NewAdmission(s.admitted),
	}
}

// epochBody is the state as the protocol announces it to servers.
func (s *state) epochBody() protocol.EpochBody {
	b := protocol.EpochBody{Epoch: s.epoch, N: uint8(s.n), VNodes: uint16(s.vnodes)}
	for _, m := range s.sortedMembers() {
		b.Members = append(b.Members, protocol.Member{ID: m.ID, State: m.State.Protocol()})
	}
	return b
}
