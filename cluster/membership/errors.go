package membership

import "errors"

// Sentinel errors. Apply's rejections are values, decided by the command
// and the state alone, so every replica rejects the same commands. Join of
// a removed server and Remove of a non-member wrap placement.ErrRemoved
// and placement.ErrNotMember, which callers of a placement.Membership
// already test for.
var (
	// ErrMalformed means a command or snapshot could not be decoded.
	ErrMalformed = errors.New("membership: malformed encoding")
	// ErrUnknownVersion means a command or snapshot has a version this
	// code does not know.
	ErrUnknownVersion = errors.New("membership: unknown version")
	// ErrUnknownOp means a command names an operation this code does not
	// know.
	ErrUnknownOp = errors.New("membership: unknown operation")
	// ErrFull means a change would exceed a limit (MaxMembers members or
	// MaxRemoved removed servers).
	ErrFull = errors.New("membership: limit reached")
	// ErrNotConfigured means a change arrived before the ring's N and
	// virtual nodes were set; the leader sets them when it is elected.
	ErrNotConfigured = errors.New("membership: ring not configured yet")
	// ErrConfigMismatch means a configure command disagrees with the
	// configuration already committed; the committed one stays.
	ErrConfigMismatch = errors.New("membership: configuration differs from the committed one")
	// ErrAlreadyConfigured means an import arrived after the state was
	// configured: a ring is seeded only once, before anything else.
	ErrAlreadyConfigured = errors.New("membership: ring already configured; import refused")
	// ErrNotLeader means a change reached a node that is not the leader
	// and could not be passed on; the message names the leader if known.
	ErrNotLeader = errors.New("membership: not the leader")
	// ErrNoLeader means no leader is known (an election is under way, or
	// the group has lost its quorum).
	ErrNoLeader = errors.New("membership: no leader")
	// ErrConfig means a Config breaks a rule; the message says which.
	ErrConfig = errors.New("membership: invalid configuration")
	// ErrClosed means the Node was closed.
	ErrClosed = errors.New("membership: node closed")
	// ErrNotAdmitted means a revocation named a server that is not
	// admitted.
	ErrNotAdmitted = errors.New("membership: server not admitted")
	// ErrKeyInUse means an admission's key is already bound to another
	// server: a key stands for one server.
	ErrKeyInUse = errors.New("membership: key admitted for another server")
	// ErrNotInGroup means a proxy asked to be recorded while it is not in
	// the group's Raft configuration: a proxy that was removed from the
	// group is not recorded again.
	ErrNotInGroup = errors.New("membership: proxy not in the group")
	// ErrUndecided means a change was handed to the leader but no answer
	// came back (the connection broke): it may or may not be committed.
	// A Forwarder reports it; the Node tries again only changes that can
	// be applied twice.
	ErrUndecided = errors.New("membership: outcome unknown")
)
