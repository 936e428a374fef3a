package storage

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// Corruption handling.
//
// A stored value is corrupt when its framing fails (version, size, CRC-32C),
// its payload does not crdt.Decode, or it decodes to something other than the
// part its key names (another list, another item, the wrong kind of part:
// this catches values written under the wrong key, which a checksum of the
// payload alone would not). A corrupt value is never served. Whoever meets
// one (Load and LoadEncoded, hence digests and hinted deliveries; SaveMerge
// and SaveHinted; Repair and Discard) first copies it into the quarantine:
// key 'q' | original key | time (8 bytes, big-endian Unix nanoseconds),
// value uvarint(len(reason)) | reason | the raw value. An identical copy
// already there is not duplicated. The copies stay for inspection
// (Quarantined) until an operator clears them (ClearQuarantine).
//
// Then one of two things happens:
//
//   - Healing (Options.SelfHeal, storage servers; heal.go). If every corrupt
//     value of the list is damaged bytes (too short, or failing its
//     checksum), they are dropped in the same synced batch as their copies,
//     and the operation goes on with what is left: a read returns it, a
//     write merges into it. The other replicas make the list whole again,
//     as merging is a join: anti-entropy, or read repair, stores the merge
//     of the owners' states here.
//   - Refusal (any other corrupt value, or a store that does not heal). The
//     list is marked damaged: key 'd' | position | ID, mirrored in memory.
//     SaveMerge refuses a damaged list with ErrCorrupt even when the delta
//     does not touch the corrupt part, so nothing is merged on top of a
//     state known to be incomplete, and reads fail with an error matching
//     ErrCorrupt (a *CorruptError per value). The corrupt value stays where
//     it is, never overwritten, until an operator decides (`server repair`):
//     Repair drops the corrupt parts and keeps the good ones; Discard drops
//     the whole list. Either clears the damaged mark, after which the other
//     replicas rebuild the list by merging. A self-healing store heals a
//     damaged list whose corrupt values have become healable (one marked by
//     a store that did not heal) at its next write.
//
// A store whose engine files are corrupt, so that it cannot be opened at
// all, is another matter: see aside.go.

// CorruptError describes one corrupt stored value. It matches ErrCorrupt
// under errors.Is.
type CorruptError struct {
	List uuid.UUID // the list the value belongs to
	Key  []byte    // the value's key
	Err  error     // what failed
}

// Error names the list, the part and the failure.
func (e *CorruptError) Error() string {
	return fmt.Sprintf("storage: corrupt value of %s (key %x): %v", describeKey(e.Key), e.Key, e.Err)
}

// Is reports whether target is ErrCorrupt.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// Unwrap returns the underlying failure.
func (e *CorruptError) Unwrap() error { return e.Err }

// badValue is a corrupt value found by a scan; key and raw are copies.
type badValue struct {
	key, raw []byte
	err      *CorruptError
}

func newBad(key, raw []byte, err error) badValue {
	key = bytes.Clone(key)
	return badValue{key: key, raw: bytes.Clone(raw), err: &CorruptError{List: uuid.UUID(key[9:listKeyLen]), Key: key, Err: err}}
}

// badError combines the errors of bad, which is not empty.
func badError(bad []badValue) error {
	if len(bad) == 1 {
		return bad[0].err
	}
	errs := make([]error, len(bad))
	for i, b := range bad {
		errs[i] = b.err
	}
	return errors.Join(errs...)
}

// decodePart verifies and decodes the stored value raw of the part p,
// returning the part and its payload (which aliases raw).
func decodePart(p partKey, raw []byte) (*crdt.List, []byte, error) {
	payload, err := decodeValue(raw)
	if err != nil {
		return nil, nil, err
	}
	l, err := crdt.Decode(payload)
	if err != nil {
		return nil, nil, err
	}
	switch keys := l.ItemKeys(); {
	case l.ID() != p.list.id():
		return nil, nil, fmt.Errorf("value holds list %s", l.ID())
	case p.name && (len(keys) != 0 || l.HeadEmpty()):
		return nil, nil, fmt.Errorf("value is not a name part (%d items, name %q)", len(keys), l.Name())
	case !p.name && (len(keys) != 1 || keys[0] != p.item || !l.HeadEmpty()):
		return nil, nil, fmt.Errorf("value is not the part of item %q (items %q, name %q, floor %v)", p.item, keys, l.Name(), l.Floor())
	}
	return l, payload, nil
}

// checkValue verifies and decodes a value found under a list prefix; a key
// outside the layout is corrupt too.
func checkValue(key, raw []byte) (*crdt.List, []byte, error) {
	p, ok := parsePartKey(key)
	if !ok {
		return nil, nil, errors.New("key is not in the store layout")
	}
	return decodePart(p, raw)
}
