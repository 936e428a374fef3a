package crdt

import (
	"bytes"
	"encoding/binary"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Timestamp is a hybrid logical clock reading: wall-clock milliseconds, a
// logical counter and the replica that issued it, ordered in that order.
// The zero Timestamp is older than every stamp a Clock issues.
type Timestamp struct {
	Wall    int64 // Unix milliseconds
	Logical uint32
	Replica uuid.UUID
}

// timestampSize is the length of an encoded Timestamp.
const timestampSize = 8 + 4 + 16

// Compare returns -1, 0 or +1 as t is older than, equal to or newer than o.
func (t Timestamp) Compare(o Timestamp) int {
	switch {
	case t.Wall < o.Wall:
		return -1
	case t.Wall > o.Wall:
		return 1
	case t.Logical < o.Logical:
		return -1
	case t.Logical > o.Logical:
		return 1
	}
	return bytes.Compare(t.Replica[:], o.Replica[:])
}

// After reports whether t is strictly newer than o.
func (t Timestamp) After(o Timestamp) bool { return t.Compare(o) > 0 }

// IsZero reports whether t is the zero Timestamp.
func (t Timestamp) IsZero() bool {
	// Word loads rather than an array comparison: this is on every hot path.
	return t.Wall == 0 && t.Logical == 0 &&
		binary.NativeEndian.Uint64(t.Replica[:8])|binary.NativeEndian.Uint64(t.Replica[8:]) == 0
}

// Time returns the wall-clock part of t.
func (t Timestamp) Time() time.Time { return time.UnixMilli(t.Wall) }

// appendBinary appends the 28-byte big-endian form of t, whose byte order is
// the order of Compare (for non-negative Wall).
func (t Timestamp) appendBinary(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(t.Wall))
	b = binary.BigEndian.AppendUint32(b, t.Logical)
	return append(b, t.Replica[:]...)
}

// TimestampFromBinary reads a stamp in the 28-byte form the list encoding
// writes (docs/PROTOCOL.md, "List bodies"); ok is false if b is not 28 bytes
// or the stamp is out of range (see MaxWall). Storage uses it to read a
// list's floor without decoding the list.
func TimestampFromBinary(b []byte) (Timestamp, bool) { return timestampFromBinary(b) }

// timestampFromBinary is TimestampFromBinary.
func timestampFromBinary(b []byte) (t Timestamp, ok bool) {
	if len(b) != timestampSize {
		return Timestamp{}, false
	}
	t.Wall = int64(binary.BigEndian.Uint64(b))
	t.Logical = binary.BigEndian.Uint32(b[8:])
	copy(t.Replica[:], b[12:])
	return t, t.Wall >= 0 && t.Wall <= MaxWall && t.Logical <= MaxLogical
}

func maxStamp(a, b Timestamp) Timestamp {
	if b.After(a) {
		return b
	}
	return a
}

// Clock is a hybrid logical clock for one replica. Its readings are unique and
// strictly increasing, never behind the wall clock, and after Observe never
// behind any stamp the replica has seen, so an edit made after receiving
// another replica's state is stamped later even when wall clocks disagree.
// A Clock is safe for concurrent use.
type Clock struct {
	replica uuid.UUID
	now     func() time.Time

	mu     sync.Mutex // guards last and author
	last   Timestamp  // the latest reading issued or observed
	author string     // the replica's display name; "" if none (author.go)
}

// NewClock returns a clock for the replica, reading the system wall clock.
func NewClock(replica uuid.UUID) *Clock { return NewClockWith(replica, time.Now) }

// NewClockWith returns a clock for the replica that reads wall time from now;
// tests use it to simulate skewed clocks.
func NewClockWith(replica uuid.UUID, now func() time.Time) *Clock {
	return &Clock{replica: replica, now: now}
}

// Replica returns the replica ID the clock stamps with.
func (c *Clock) Replica() uuid.UUID { return c.replica }

// Now returns a new reading, strictly after every earlier reading and every
// observed stamp (at the top of the range, MaxWall and MaxLogical, it
// repeats instead).
func (c *Clock) Now() Timestamp {
	c.mu.Lock()
	defer c.mu.Unlock()
	wall := min(c.now().UnixMilli(), MaxWall)
	switch {
	case wall > c.last.Wall:
		c.last = Timestamp{Wall: wall}
	case c.last.Logical < MaxLogical:
		c.last.Logical++
	case c.last.Wall < MaxWall:
		c.last = Timestamp{Wall: c.last.Wall + 1}
	default:
		// The top of the range, where only a forged stamp brings a clock:
		// the reading repeats rather than leave the range Decode accepts.
	}
	c.last.Replica = c.replica
	return c.last
}

// Observe is the HLC receive rule: it moves the clock to at least t, so that
// every later reading is after t.
func (c *Clock) Observe(t Timestamp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.Wall > MaxWall || t.Logical > MaxLogical {
		return // out of the range Decode accepts: never a replica's stamp
	}
	if t.Wall > c.last.Wall || (t.Wall == c.last.Wall && t.Logical > c.last.Logical) {
		c.last.Wall, c.last.Logical = t.Wall, t.Logical
	}
}
