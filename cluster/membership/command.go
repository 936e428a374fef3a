package membership

import (
	"fmt"

	"shoplist/protocol"
)

// CommandVersion is the version of the command encoding this code writes
// and the only one it applies.
const CommandVersion = 1

// MaxCommandSize bounds an encoded command other than an import; anything
// larger is malformed. It fits a proxy command with the longest ID and
// addresses. An import carries a whole state and is bounded by the
// snapshot limit instead; no input larger than that is decoded at all.
const MaxCommandSize = 1024

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
	// opImport seeds an unconfigured state with a whole state (a ring
	// kept by an earlier membership, such as the proxy's members.json):
	// [1, 5, state], state encoded as a snapshot is (see encodeState). It
	// is refused once the state is configured.
	opImport op = 5
	// opProxy records a proxy of the group, replacing what was recorded
	// under its ID: [1, 6, id str, raft str, admin str, client str]. It
	// does not change the ring or its epoch.
	opProxy op = 6
	// opAdmit admits a storage server to the backend under a CURVE public
	// key, replacing the key it had: [1, 7, id str, key str]. It does not
	// change the ring or its epoch.
	opAdmit op = 7
	// opRevoke withdraws a server's admission: [1, 8, id str]. It does not
	// change the ring or its epoch.
	opRevoke op = 8
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
	case opImport:
		return "import"
	case opProxy:
		return "proxy"
	case opAdmit:
		return "admit"
	case opRevoke:
		return "revoke"
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// command is one decoded change: [version uint, op uint, args...].
type command struct {
	op        op
	id        string // join, leave, remove, admit, revoke
	key       string // admit
	n, vnodes int    // configure
	// seed is an import's state, as encodeState encodes it (one encoding
	// per state, so decoded commands compare equal).
	seed string
	// proxy is a proxy command's record; its ID is also in id.
	proxy ProxyInfo
}

func configureCommand(n, vnodes int) command { return command{op: opConfigure, n: n, vnodes: vnodes} }
func joinCommand(id string) command          { return command{op: opJoin, id: id} }
func leaveCommand(id string) command         { return command{op: opLeave, id: id} }
func removeCommand(id string) command        { return command{op: opRemove, id: id} }
func revokeCommand(id string) command        { return command{op: opRevoke, id: id} }

// admitCommand admits server a.ID with key a.Key.
func admitCommand(a Admitted) command { return command{op: opAdmit, id: a.ID, key: a.Key} }

// proxyCommand records p.
func proxyCommand(p ProxyInfo) command { return command{op: opProxy, id: p.ID, proxy: p} }

// importCommand seeds the state with st, which must be configured and have
// an epoch of at least 1.
func importCommand(st *state) command { return command{op: opImport, seed: string(encodeState(st))} }

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
	case opImport:
		w.array(3)
		w.uint(CommandVersion)
		w.uint(uint64(c.op))
		return append(w.bytes(), c.seed...) // a msgpack value nests as it is
	case opProxy:
		w.array(6)
		w.uint(CommandVersion)
		w.uint(uint64(c.op))
		writeProxyInfo(w, c.proxy)
	case opAdmit:
		w.array(4)
		w.uint(CommandVersion)
		w.uint(uint64(c.op))
		w.str(c.id)
		w.str(c.key)
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
	if len(p) > maxImportSize {
		return command{}, fmt.Errorf("%w: command is %d bytes, at most %d allowed", ErrMalformed, len(p), maxImportSize)
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
	if c.op != opImport && len(p) > MaxCommandSize {
		return command{}, fmt.Errorf("%w: %s command is %d bytes, at most %d allowed", ErrMalformed, c.op, len(p), MaxCommandSize)
	}
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
	case opJoin, opLeave, opRemove, opRevoke:
		if n != 3 {
			return command{}, fmt.Errorf("%w: %s has %d elements, want 3", ErrMalformed, c.op, n)
		}
		c.id = r.str("server ID", protocol.MaxServerIDLen)
		if r.err == nil {
			if err := protocol.CheckServerID(c.id); err != nil {
				r.fail("%s: %v", c.op, err)
			}
		}
	case opAdmit:
		if n != 4 {
			return command{}, fmt.Errorf("%w: admit has %d elements, want 4", ErrMalformed, n)
		}
		a := readAdmitted(r)
		c.id, c.key = a.ID, a.Key
	case opProxy:
		if n != 6 {
			return command{}, fmt.Errorf("%w: proxy has %d elements, want 6", ErrMalformed, n)
		}
		c.proxy = readProxyInfo(r)
		c.id = c.proxy.ID
	case opImport:
		if n != 3 {
			return command{}, fmt.Errorf("%w: import has %d elements, want 3", ErrMalformed, n)
		}
		st := readStateFrom(r)
		if r.err == nil && (!st.configured() || st.epoch == 0) {
			r.fail("import: n = %d, vnodes = %d, epoch = %d; an imported state must be configured with an epoch of at least 1", st.n, st.vnodes, st.epoch)
		}
		if r.err == nil {
			c.seed = string(encodeState(st))
		}
	default:
		return command{}, fmt.Errorf("%w: %d", ErrUnknownOp, uint8(c.op))
	}
	if err := r.end("command"); err != nil {
		return command{}, err
	}
	return c, nil
}
