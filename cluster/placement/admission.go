package placement

import (
	"maps"
	"slices"
)

// Admission is the set of storage servers admitted to the proxies'
// backend: each server ID bound to the one CURVE public key (Z85) it
// connects with, and each key to one ID. A proxy accepts a backend
// connection only from an admitted key, and a ServerHello only under the
// ID bound to that key. It is immutable; a change makes a new one. The
// nil *Admission admits nobody.
type Admission struct {
	byID  map[string]string // server ID -> key
	byKey map[string]string // key -> server ID
}

// NewAdmission returns the admission of byID (server ID -> key), which the
// caller keeps a key to at most one ID in; it copies the map.
func NewAdmission(byID map[string]string) *Admission {
	a := &Admission{byID: maps.Clone(byID), byKey: make(map[string]string, len(byID))}
	if a.byID == nil {
		a.byID = map[string]string{}
	}
	for id, key := range byID {
		a.byKey[key] = id
	}
	return a
}

// ID returns the server ID a public key is admitted under.
func (a *Admission) ID(key string) (string, bool) {
	if a == nil {
		return "", false
	}
	id, ok := a.byKey[key]
	return id, ok
}

// Key returns the public key server id is admitted with.
func (a *Admission) Key(id string) (string, bool) {
	if a == nil {
		return "", false
	}
	key, ok := a.byID[id]
	return key, ok
}

// Admits reports whether key is admitted under id.
func (a *Admission) Admits(id, key string) bool {
	k, ok := a.Key(id)
	return ok && k == key
}

// IDs returns the admitted server IDs, sorted.
func (a *Admission) IDs() []string {
	if a == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(a.byID))
}

// Len returns how many servers are admitted.
func (a *Admission) Len() int {
	if a == nil {
		return 0
	}
	return len(a.byID)
}
