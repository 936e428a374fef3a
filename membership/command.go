package membership

import (
	"fmt"

	"shoplist/protocol"
)

// CommandVersion is the version of the command encoding this code writes
// and the only one it applies.
const CommandVersion = 1

// MaxCommandSize bounds an encoded command; anything larger is malformed
// before a byte of it is decoded.
const MaxCommandSize = 256

// op names a command's operation. Values are part of the log's encoding:
// never reuse one.
type op uint8

const (
	// opConfigure sets N and the virtual nodes: [1, 1, n uint, vnodes uint].
	opConfigure op = 1
	// opJoin adds a server as active: [1, 2, id str].
	opJoin op = 2
	// opLeave marks a member as leaving: [1, 3, id str].
	opLeave op = 3
	// opRemove takes a member out for good: [1, 4, id str].
	opRemove op = 4
)

// String returns the operation's name.
func (o op) String() string {
	switch o {
	case opConfigure:
		return "configure"
	case opJoin:
		return "join"
	case opLeave:
		return "leave"
	case opRemove:
		return "remove"
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// command is one decoded change: [version uint, op uint, args...].
type command struct {
	op        op
	id        string // join, leave, remove
	n, vnodes int    // configure
}

func configureCommand(n, vnodes int) command { return command{op: opConfigure, n: n, vnodes: vnodes} }
func joinCommand(id string) command          { return command{op: opJoin, id: id} }
func leaveCommand(id string) command         { return command{op: opLeave, id: id} }
func removeCommand(id string) command        { return command{op: opRemove, id: id} }

// encode returns the command's one encoding (shortest msgpack forms).
func (c command) encode() []byte {
	w := newWriter()
	switch c.op {
	case opConfigure:
		w.array(4)
		w.uint(CommandVersion)
		w.uint(uint64(c.op))
		w.uint(uint64(c.n))
		w.uint(uint64(c.vnodes))
	default:
		w.array(3)
		w.uint(CommandVersion)
		w.uint(uint64(c.op))
		w.str(c.id)
	}
	return w.bytes()
}

// decodeCommand decodes and checks an encoded command. The version is read
// before the arity is checked, so a command of a later version with other
// arguments is reported as ErrUnknownVersion, not as malformed.
func decodeCommand(p []byte) (command, error) {
	if len(p) > MaxCommandSize {
		return command{}, fmt.Errorf("%w: command is %d bytes, at most %d allowed", ErrMalformed, len(p), MaxCommandSize)
	}
	r := newReader(p)
	n := r.array("command", 16)
	if r.err == nil && n < 2 {
		r.fail("command: %d elements, want at least 2", n)
	}
	version := r.uint("command version", 1<<32)
	if r.err != nil {
		return command{}, r.err
	}
	if version != CommandVersion {
		return command{}, fmt.Errorf("%w: command version %d, want %d", ErrUnknownVersion, version, CommandVersion)
	}
	o := r.uint("command op", 1<<32)
	if r.err != nil {
		return command{}, r.err
	}
	if o > 255 {
		return command{}, fmt.Errorf("%w: %d", ErrUnknownOp, o)
	}
	c := command{op: op(o)}
	switch c.op {
	case opConfigure:
		if n != 4 {
			return command{}, fmt.Errorf("%w: configure has %d elements, want 4", ErrMalformed, n)
		}
		c.n = int(r.uint("n", protocol.MaxReplication))
		c.vnodes = int(r.uint("vnodes", protocol.MaxVNodes))
		if r.err == nil && (c.n < 1 || c.vnodes < 1) {
			r.fail("configure: n = %d, vnodes = %d; both must be at least 1", c.n, c.vnodes)
		}
	case opJoin, opLeave, opRemove:
		if n != 3 {
			return command{}, fmt.Errorf("%w: %s has %d elements, want 3", ErrMalformed, c.op, n)
		}
		c.id = r.str("server ID", protocol.MaxServerIDLen)
		if r.err == nil {
			if err := protocol.CheckServerID(c.id); err != nil {
				r.fail("%s: %v", c.op, err)
			}
		}
	default:
		return command{}, fmt.Errorf("%w: %d", ErrUnknownOp, uint8(c.op))
	}
	if err := r.end("command"); err != nil {
		return command{}, err
	}
	return c, nil
}
