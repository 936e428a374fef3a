package membership

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"shoplist/cluster/placement"
	"shoplist/hashring"
	"shoplist/internal/atomicfile"
	"shoplist/protocol"
)

// Registry is the Membership of a single proxy: a server joins the ring when
// it says hello and stays until it is removed. With a file it survives a
// restart of the proxy, so a restarted proxy routes every list to the same
// servers as before, even while some of them have not reconnected yet (they
// are down, not gone). The consensus-backed membership replaces it when
// proxies are several. Its admissions (Admit) are kept in memory only.
type Registry struct {
	path   string // "" keeps the registry in memory only
	vnodes int
	ch     chan struct{}

	// mu guards view, removed and admitted, and serialises changes with
	// their file writes, so the file always holds the latest state.
	mu       sync.Mutex
	view     placement.View
	removed  map[string]bool   // servers removed from the ring, refused if they say hello again
	admitted map[string]string // servers admitted to the backend, by ID: their keys
}

// registryFile is the persisted form of a Registry.
type registryFile struct {
	Epoch   uint64   `json:"epoch"`
	VNodes  int      `json:"vnodes"`
	Members []string `json:"members"`
	Removed []string `json:"removed,omitempty"`
}

// NewRegistry returns a Registry with vnodes virtual nodes per server, kept
// in the file at path (created on first change; "" for memory only). An
// existing file is loaded; its vnodes must match.
func NewRegistry(path string, vnodes int) (*Registry, error) {
	if vnodes < 1 || vnodes > protocol.MaxVNodes {
		return nil, fmt.Errorf("%w: vnodes = %d, want 1 to %d", ErrConfig, vnodes, protocol.MaxVNodes)
	}
	r := &Registry{path: path, vnodes: vnodes, ch: make(chan struct{}, 1), removed: map[string]bool{}, admitted: map[string]string{}}
	r.view = placement.View{Ring: hashring.New(nil, hashring.WithVNodes(vnodes))}
	if path == "" {
		return r, nil
	}
	f, ok, err := ReadRegistryFile(path)
	if err != nil {
		return nil, err
	}
	if !ok {
		return r, nil
	}
	if f.VNodes != vnodes {
		return nil, fmt.Errorf("%w: membership file %s has %d virtual nodes per server, the proxy was started with %d", ErrConfig, path, f.VNodes, vnodes)
	}
	for _, id := range f.Members {
		if err := protocol.CheckServerID(id); err != nil {
			return nil, fmt.Errorf("membership: membership file %s: %w", path, err)
		}
	}
	r.view = placement.View{Ring: hashring.New(f.Members, hashring.WithVNodes(vnodes)), Epoch: f.Epoch}
	for _, id := range f.Removed {
		r.removed[id] = true
	}
	return r, nil
}

// RegistryFile is the name of a Registry's file in a proxy's data
// directory.
const RegistryFile = "members.json"

// RegistryState is what a Registry's file holds.
type RegistryState struct {
	Epoch            uint64
	VNodes           int
	Members, Removed []string
}

// ReadRegistryFile reads a Registry's file, for a membership that takes
// the ring over from it; ok is false if there is no file.
func ReadRegistryFile(path string) (st RegistryState, ok bool, err error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return RegistryState{}, false, nil
	}
	if err != nil {
		return RegistryState{}, false, fmt.Errorf("membership: reading membership: %w", err)
	}
	var f registryFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return RegistryState{}, false, fmt.Errorf("membership: membership file %s is damaged; move it away to start with an empty ring: %w", path, err)
	}
	return RegistryState{Epoch: f.Epoch, VNodes: f.VNodes, Members: f.Members, Removed: f.Removed}, true, nil
}

// View returns the current membership.
func (r *Registry) View() placement.View {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.view
}

// Changes returns the channel that receives after each change.
func (r *Registry) Changes() <-chan struct{} { return r.ch }

// Join adds id to the ring (a no-op for a member) and persists the change.
func (r *Registry) Join(_ context.Context, id string) error {
	if err := protocol.CheckServerID(id); err != nil {
		return err
	}
	var removed bool
	err := r.change(func(v placement.View) (*hashring.Ring, bool) {
		if removed = r.removed[id]; removed || v.Has(id) {
			return nil, false
		}
		return v.Ring.With(id), true
	})
	if err == nil && removed {
		return fmt.Errorf("%w: %s; start it with a fresh data directory (a new ID) to rejoin", placement.ErrRemoved, id)
	}
	return err
}

// Remove takes id out of the ring and persists the change.
func (r *Registry) Remove(_ context.Context, id string) error {
	var missing bool
	err := r.change(func(v placement.View) (*hashring.Ring, bool) {
		if !v.Has(id) {
			missing = true
			return nil, false
		}
		r.removed[id] = true // kept only if the change is saved; see change
		return v.Ring.Without(id), true
	})
	if err == nil && missing {
		return fmt.Errorf("%w: %s", placement.ErrNotMember, id)
	}
	return err
}

// change applies edit to the view under mu, writes the new view to the file
// (if any) before publishing it, and signals Changes.
func (r *Registry) change(edit func(placement.View) (*hashring.Ring, bool)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	ring, ok := edit(r.view)
	if !ok {
		return nil
	}
	admitted := maps.Clone(r.admitted)
	maps.DeleteFunc(admitted, func(id, _ string) bool { return r.removed[id] }) // a removed server never rejoins
	next := placement.View{Ring: ring, Epoch: r.view.Epoch + 1, Admitted: placement.NewAdmission(admitted)}
	if err := r.save(next); err != nil {
		for id := range r.removed { // undo a removal that was not saved
			if !r.view.Has(id) || next.Has(id) {
				continue
			}
			delete(r.removed, id)
		}
		return err
	}
	r.view, r.admitted = next, admitted
	r.signal()
	return nil
}

// signal tells Changes' receiver that the view changed.
func (r *Registry) signal() {
	select {
	case r.ch <- struct{}{}:
	default:
	}
}

// Admit admits server id to the backend with the CURVE public key key,
// replacing the key it had, as Node.Admit does (a removed server and a key
// admitted for another server are refused), without changing the epoch.
func (r *Registry) Admit(_ context.Context, id, key string) error {
	a := Admitted{ID: id, Key: key}
	if err := a.Check(); err != nil {
		return fmt.Errorf("%w: admit: %w", ErrMalformed, err)
	}
	return r.admission(func(st *state) (bool, error) { return st.applyAdmit(a) })
}

// Revoke withdraws server id's admission, as Node.Revoke does.
func (r *Registry) Revoke(_ context.Context, id string) error {
	return r.admission(func(st *state) (bool, error) { return st.applyRevoke(id) })
}

// admission applies an admission change with the state's rules and
// publishes the admitted set it leaves.
func (r *Registry) admission(apply func(*state) (bool, error)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := &state{admitted: maps.Clone(r.admitted), removed: r.removed}
	changed, err := apply(st)
	if err != nil || !changed {
		return err
	}
	r.admitted = st.admitted
	r.view.Admitted = placement.NewAdmission(r.admitted)
	r.signal()
	return nil
}

// save writes v to the file atomically and durably: a temporary file,
// synced, renamed over the old one, and the directory synced.
func (r *Registry) save(v placement.View) error {
	if r.path == "" {
		return nil
	}
	members := slices.Sorted(slices.Values(v.Ring.Servers()))
	removed := slices.Sorted(maps.Keys(r.removed))
	raw, err := json.MarshalIndent(registryFile{Epoch: v.Epoch, VNodes: r.vnodes, Members: members, Removed: removed}, "", "  ")
	if err != nil {
		return fmt.Errorf("membership: saving membership: %w", err)
	}
	dir := filepath.Dir(r.path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("membership: saving membership: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".members-*")
	if err != nil {
		return fmt.Errorf("membership: saving membership: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	_, err = tmp.Write(append(raw, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), r.path)
	}
	if err == nil {
		err = atomicfile.SyncDir(dir)
	}
	if err != nil {
		return fmt.Errorf("membership: saving membership: %w", err)
	}
	return nil
}
