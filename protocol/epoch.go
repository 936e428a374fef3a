package protocol

import (
	"fmt"
	"strconv"
)

// MemberState is a ring member's state in an epoch.
type MemberState uint8

// Member states. Values are part of the wire format; unknown states are
// refused, because placement depends on them.
const (
	// MemberUp: the server owns its virtual nodes and serves them.
	MemberUp MemberState = 1
	// MemberDown: the server keeps its place on the ring but is
	// unreachable; writes for it go to fallbacks as HintedStore.
	MemberDown MemberState = 2
	// MemberJoining: the server is receiving its ranges and does not yet
	// count towards quorums.
	MemberJoining MemberState = 3
	// MemberLeaving: the server still serves but is handing its ranges
	// over and will be removed in a later epoch.
	MemberLeaving MemberState = 4
)

var stateNames = [...]string{
	MemberUp:      "Up",
	MemberDown:    "Down",
	MemberJoining: "Joining",
	MemberLeaving: "Leaving",
}

// Known reports whether s is a member state of this protocol version.
func (s MemberState) Known() bool { return int(s) < len(stateNames) && stateNames[s] != "" }

// String returns the state's name, such as "Up", or "MemberState(n)".
func (s MemberState) String() string {
	if s.Known() {
		return stateNames[s]
	}
	return "MemberState(" + strconv.Itoa(int(s)) + ")"
}

// Member is one server of the ring: [id str, state uint].
type Member struct {
	ID    string // see CheckServerID
	State MemberState
}

// EpochBody is the body of an EpochAnnounce, the ring agreed for an epoch:
// [epoch uint, n uint, vnodes uint, [member...]]. Members are sorted by ID,
// strictly ascending (bytewise), so one ring has exactly one encoding.
type EpochBody struct {
	Epoch   uint64   // nonzero; equal to the EpochAnnounce header's Epoch
	N       uint8    // replicas per list, 1 to MaxReplication
	VNodes  uint16   // virtual nodes per server, 1 to MaxVNodes
	Members []Member // at most MaxMembers, sorted by ID
}

func (b EpochBody) check() error {
	switch {
	case b.Epoch == 0:
		return fmt.Errorf("%w: epoch 0", ErrMalformed)
	case b.N == 0 || b.N > MaxReplication:
		return fmt.Errorf("%w: N = %d, want 1 to %d", ErrMalformed, b.N, MaxReplication)
	case b.VNodes == 0 || b.VNodes > MaxVNodes:
		return fmt.Errorf("%w: vnodes = %d, want 1 to %d", ErrMalformed, b.VNodes, MaxVNodes)
	case len(b.Members) > MaxMembers:
		return fmt.Errorf("%w: %d members, at most %d allowed", ErrTooLarge, len(b.Members), MaxMembers)
	}
	for i, m := range b.Members {
		if err := CheckServerID(m.ID); err != nil {
			return err
		}
		if !m.State.Known() {
			return fmt.Errorf("%w: member %s has unknown state %d", ErrMalformed, m.ID, uint8(m.State))
		}
		if i > 0 && m.ID <= b.Members[i-1].ID {
			return fmt.Errorf("%w: member %s out of order or repeated", ErrMalformed, m.ID)
		}
	}
	return nil
}

// Encode returns the body's encoding. Members must already be sorted.
func (b EpochBody) Encode() ([]byte, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	out := appendArrayLen(make([]byte, 0, 16+16*len(b.Members)), 4)
	out = appendUint(out, b.Epoch)
	out = appendUint(out, uint64(b.N))
	out = appendUint(out, uint64(b.VNodes))
	out = appendArrayLen(out, len(b.Members))
	for _, m := range b.Members {
		out = appendArrayLen(out, 2)
		out = appendStr(out, m.ID)
		out = appendUint(out, uint64(m.State))
	}
	return out, nil
}

// DecodeEpochBody decodes an EpochAnnounce's body. Members is nil when
// empty.
func DecodeEpochBody(p []byte) (EpochBody, error) {
	r, err := bodyReader("epoch body", p, MaxControlBodySize)
	if err != nil {
		return EpochBody{}, err
	}
	var b EpochBody
	r.fixedArray("epoch body", 4)
	b.Epoch = r.uint("epoch")
	n := r.uint("N")
	vn := r.uint("vnodes")
	if r.err == nil && (n > MaxReplication || vn > MaxVNodes) {
		r.fail(ErrMalformed, "N = %d, vnodes = %d; at most %d and %d allowed", n, vn, MaxReplication, MaxVNodes)
	}
	b.N, b.VNodes = uint8(n), uint16(vn)
	count := r.listArray("members", MaxMembers)
	for i := 0; i < count && r.err == nil; i++ {
		r.fixedArray("member", 2)
		m := Member{ID: r.str("member ID", MaxServerIDLen)}
		st := r.uint("member state")
		if r.err == nil && st > 0xff {
			r.fail(ErrMalformed, "member %s has unknown state %d", m.ID, st)
		}
		m.State = MemberState(st)
		b.Members = append(b.Members, m)
	}
	if err := finish(&r, "epoch body", b.check); err != nil {
		return EpochBody{}, err
	}
	return b, nil
}
