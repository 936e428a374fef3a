package crdt

import "errors"

// Limits on a list. An edit that would pass an edit limit (MaxItems,
// MaxReplicas, MaxQuantity, MaxCounter, the name lengths) is refused with a
// clear error; Decode refuses a whole state past its caps (MaxEntries,
// MaxSlots, MaxTombstones, MaxEncodedSize), so a hostile or broken peer
// cannot make a replica allocate without bound. Merge checks neither: it
// never fails, so two valid replicas always converge. The caps leave room
// above the edit limits for the union of replicas that each stayed within
// them; tombstones need none, as every merge and remove keeps at most
// MaxTombstones (compact.go).
const (
	MaxNameBytes     = 200       // longest list or item name, in bytes of UTF-8
	MaxCategoryBytes = 64        // longest category of an item
	MaxNoteBytes     = 200       // longest note on an item
	MaxItems         = 5000      // most present items an edit may leave in one list
	MaxEntries       = 20000     // most items, removed ones included, Decode accepts
	MaxTombstones    = 4096      // most removed items a list keeps, and Decode accepts
	MaxReplicas      = 1024      // most replicas an edit may leave with counters on one item
	MaxSlots         = 4096      // most replicas' counters on one item Decode accepts
	MaxQuantity      = 1_000_000 // largest quantity one edit may add, set or buy
	MaxCounter       = 1 << 40   // largest value of one counter in one slot
	MaxEncodedSize   = 4 << 20   // largest encoded list Decode accepts, in bytes

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
	ErrDeleted         = errors.New("crdt: list deleted")
	ErrNotDeleted      = errors.New("crdt: list not deleted")
)
