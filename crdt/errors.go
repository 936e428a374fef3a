package crdt

import "errors"

// Limits on a list, enforced by every operation and by Decode, so a hostile
// or broken peer cannot make a replica allocate without bound.
const (
	MaxNameBytes   = 200       // longest list or item name, in bytes of UTF-8
	MaxItems       = 5000      // most items (tombstones included) in one list
	MaxReplicas    = 1024      // most counter slots (replicas) on one item
	MaxQuantity    = 1_000_000 // largest quantity one edit may add, set or buy
	MaxCounter     = 1 << 40   // largest value of one counter in one slot
	MaxEncodedSize = 4 << 20   // largest encoded list Decode accepts, in bytes

	// MaxWall is the latest wall time a stamp may carry: the last
	// millisecond of the year 9999, UTC. Decode refuses a stamp beyond it
	// or with a logical counter beyond MaxLogical, and a Clock never reads
	// past them (see Clock.Now), so a forged stamp cannot make a replica's
	// next reading wrap around into one Decode refuses.
	MaxWall    = 253_402_300_799_999
	MaxLogical = 1<<32 - 2
)

// Sentinel errors, wrapped with detail; test them with errors.Is.
var (
	ErrInvalidName     = errors.New("crdt: invalid name")
	ErrInvalidQuantity = errors.New("crdt: invalid quantity")
	ErrNotFound        = errors.New("crdt: no such item")
	ErrOverBuy         = errors.New("crdt: buying more than remains")
	ErrTooLarge        = errors.New("crdt: list too large")
	ErrIDMismatch      = errors.New("crdt: merging lists with different IDs")
	ErrMalformed       = errors.New("crdt: malformed list encoding")
)
