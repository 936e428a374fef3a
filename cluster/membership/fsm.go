package membership

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"

	"shoplist/cluster/placement"
	"shoplist/protocol"
)

// fsm is the raft.FSM of a Node: the replicated state and the view derived
// from it. Raft calls Apply and Restore from its FSM goroutine and Snapshot
// from its snapshot goroutine; readers take the view without locking.
type fsm struct {
	defaultVNodes int           // the empty ring's virtual nodes before the state is configured
	changes       chan struct{} // one pending value stands for any number of changes
	notify        chan struct{} // as changes, for the Node's own watchers
	ready         chan struct{} // closed once the state is configured
	view          atomic.Pointer[placement.View]

	// mu guards st. Apply and Restore replace or change it under mu and
	// publish the view before releasing mu, so views are published in
	// the order of the changes; Snapshot and the readers copy under mu.
	mu        sync.Mutex
	st        *state
	readyShut bool // ready is closed
}

var (
	_ raft.FSM                = (*fsm)(nil)
	_ raft.ConfigurationStore = (*fsm)(nil)
)

func newFSM(defaultVNodes int) *fsm {
	f := &fsm{
		defaultVNodes: defaultVNodes,
		changes:       make(chan struct{}, 1),
		notify:        make(chan struct{}, 1),
		ready:         make(chan struct{}),
		st:            newState(),
	}
	v := f.st.view(defaultVNodes)
	f.view.Store(&v)
	return f
}

// Apply applies one committed command. It returns nil when the command was
// applied or changed nothing (a Join of a member), and the rejection error
// otherwise; a rejected command changes nothing. It never panics on any
// input: the log is replicated as it is, so a bad entry must be rejected
// the same way everywhere.
func (f *fsm) Apply(l *raft.Log) any {
	c, err := decodeCommand(l.Data)
	if err != nil {
		return fmt.Errorf("membership: entry %d: %w", l.Index, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	changed, err := f.st.apply(c)
	if err != nil {
		return err
	}
	if changed {
		f.publish()
	}
	return nil
}

// StoreConfiguration is called by Raft, on the goroutine that calls Apply
// and in log order, with each configuration of the group as it is
// committed (the bootstrap one included). The proxies that are not in it
// left the group: their records are deleted, so that clients are no
// longer sent their endpoints and the table does not fill up with proxies
// long gone. Every replica applies the same configurations at the same
// points of the log, so every replica holds the same table; snapshots
// carry it as pruned.
func (f *fsm) StoreConfiguration(_ uint64, c raft.Configuration) {
	inGroup := make(map[string]bool, len(c.Servers))
	for _, srv := range c.Servers {
		inGroup[string(srv.ID)] = true
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.st.pruneProxies(inGroup) {
		f.publish()
	}
}

// Snapshot copies the state; the copy is encoded later by Persist.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &fsmSnapshot{st: f.st.clone()}, nil
}

// Restore replaces the state with the snapshot's; nothing of the previous
// state survives.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	st, err := readState(rc)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st = st
	f.publish()
	return nil
}

// publish rebuilds the view from st and signals changes and notify.
// Callers hold mu.
func (f *fsm) publish() {
	v := f.st.view(f.defaultVNodes)
	f.view.Store(&v)
	if f.st.configured() && !f.readyShut {
		f.readyShut = true
		close(f.ready)
	}
	for _, ch := range []chan struct{}{f.changes, f.notify} {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// proxy returns the committed record of the proxy id.
func (f *fsm) proxy(id string) (ProxyInfo, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.st.proxies[id]
	return p, ok
}

// proxies returns the committed proxies sorted by ID.
func (f *fsm) proxies() []ProxyInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st.sortedProxies()
}

// current returns the committed view.
func (f *fsm) current() placement.View { return *f.view.Load() }

// copyState returns a copy of the state.
func (f *fsm) copyState() *state {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st.clone()
}

// configured reports whether N and the virtual nodes are committed, and them.
func (f *fsm) configured() (n, vnodes int, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st.n, f.st.vnodes, f.st.configured()
}

// epochBody returns the committed state as the protocol announces it.
func (f *fsm) epochBody() protocol.EpochBody {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st.epochBody()
}
