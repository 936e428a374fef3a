package fakeroles

import (
	"context"
	"maps"
	"sync"
)

// Admissions records the storage servers a launcher of fakes admits, in
// place of the admin API fake proxies do not serve: give its Admit as
// launcher.Config.Admit. It is safe for concurrent use.
type Admissions struct {
	mu   sync.Mutex
	keys map[string]string // server ID -> key
}

// NewAdmissions returns an empty record.
func NewAdmissions() *Admissions { return &Admissions{keys: map[string]string{}} }

// Admit records that server id was admitted with key.
func (a *Admissions) Admit(_ context.Context, id, key string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.keys[id] = key
	return nil
}

// Keys returns the admitted servers' keys, by ID.
func (a *Admissions) Keys() map[string]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return maps.Clone(a.keys)
}
