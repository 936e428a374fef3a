package testcluster

import (
	"errors"
	"time"

	"github.com/google/uuid"

	"shoplist/crdt"
	"shoplist/testing/ledger"
)

// WriterConfig configures StartWriters. Zero fields take the defaults.
type WriterConfig struct {
	// Endpoints are the proxies' client endpoints (required). Client i
	// starts on endpoint i mod len (on the first one with SameStart) and
	// moves to the next one whenever a request gets no reply in time.
	Endpoints []string
	Clients   int           // writing clients (default 10)
	Private   int           // lists of each client's own (default 2)
	Shared    int           // lists every client writes to (default 2)
	Items     int           // items per list (default 8)
	Timeout   time.Duration // per request (default 3s)
	// Pace is a client's pause after each push, so that a small machine
	// keeps CPU for the cluster (default 0: none).
	Pace time.Duration

	// SharedLists, if not empty, are lists created elsewhere (by other
	// Writers, say in another process) that every client writes to
	// instead of Shared new ones: each client starts with an empty copy
	// and learns the list by pulling it.
	SharedLists []uuid.UUID
	// FirstIndex numbers the clients from it (client i is "writer
	// FirstIndex+i" in the ledger), so that the writers of several
	// Writers have distinct names.
	FirstIndex int
	// SameStart starts every client on Endpoints[0], its home proxy.
	SameStart bool
	// Sent is where every delta is recorded before it is sent and every
	// pulled state is checked (default: a ledger.Sent of these writers'
	// own). Writers in several processes writing to the same lists share
	// one through their own implementation.
	Sent Sent
}

// Sent records the deltas writers send and checks the states they pull;
// *ledger.Sent is one.
type Sent interface {
	// Add joins delta, about to be sent; it returns once a Check made
	// after it covers delta.
	Add(delta *crdt.List)
	// Check returns an Invented failure for each part of read that the
	// deltas added so far do not cover.
	Check(read *crdt.List) []ledger.Failure
}

func (c WriterConfig) withDefaults() (WriterConfig, error) {
	if len(c.Endpoints) == 0 {
		return c, errors.New("testcluster: writers: no proxy endpoint")
	}
	if c.Clients <= 0 {
		c.Clients = 10
	}
	if c.SharedLists != nil {
		c.Shared = 0
	}
	if c.Private < 0 || c.Shared < 0 || c.Private+c.Shared+len(c.SharedLists) == 0 {
		c.Private, c.Shared = 2, 2
	}
	if c.Items <= 0 {
		c.Items = 8
	}
	if c.Timeout <= 0 {
		c.Timeout = 3 * time.Second
	}
	if c.Sent == nil {
		c.Sent = ledger.NewSent()
	}
	return c, nil
}
