package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// LoadEncoded returns the canonical encoding of the stored state of the list:
// the bytes Load(id) followed by Encode would give, without decoding the list
// in the steady state. It fails as Load does (ErrNotFound, ErrCorrupt, ...).
// The returned slice may be shared with other callers and with the cache:
// callers must not modify it.
//
// A state read once is served from a cache of encodings bounded by
// Options.EncodedCacheSize; writes invalidate it (see encodedCache), so a
// LoadEncoded that starts after a SaveMerge that changed the list has
// returned always sees that change. On a miss the encoding is assembled from
// the stored parts (see assemble): each value's framing and checksum are
// verified and its bytes are checked to be the part its key names, but the
// parts are not decoded. Anything that does not verify, and any list marked
// damaged, is handed to Load, which decodes, quarantines and reports, or
// heals (heal.go).
func (s *Store) LoadEncoded(id uuid.UUID) ([]byte, error) {
	return s.loadEncodedKeeping(id, true)
}

// loadEncodedKeeping is LoadEncoded; keep says whether a state read on a
// miss goes into the cache of encodings. Digests reads every list written
// since it was last hashed, most of them lists no client is using (after
// an Open, all of them): keeping those would evict the lists clients
// fetch, so it does not.
func (s *Store) loadEncodedKeeping(id uuid.UUID, keep bool) ([]byte, error) {
	enc, err := s.loadEncoded(id, keep)
	if !errors.Is(err, errNotAssembled) {
		return enc, err
	}
	l, err := s.Load(id)
	if err != nil {
		return nil, err
	}
	return l.Encode(), nil
}

// errNotAssembled means that the fast path of LoadEncoded declined a list:
// it is damaged, or a value failed a check, so Load must judge it.
var errNotAssembled = errors.New("storage: list not assembled")

// loadEncoded is LoadEncoded's fast path: the cache, else assemble (and
// keep the result in the cache if keep).
func (s *Store) loadEncoded(id uuid.UUID, keep bool) ([]byte, error) {
	if err := s.begin(); err != nil {
		return nil, err
	}
	defer s.end()
	if enc, ok := s.encoded.get(id); ok {
		return enc, nil
	}
	k := keyOf(id)
	gen := s.encoded.generation(k) // before the snapshot read: see encodedCache
	st := s.stripeOf(k)
	st.mu.Lock()
	damaged := s.isDamagedLocked(k)
	st.mu.Unlock()
	if damaged {
		return nil, errNotAssembled
	}
	enc, lay, err := s.assemble(k)
	if err != nil {
		return nil, err
	}
	if keep {
		s.encoded.put(k, gen, enc, lay)
	}
	return enc, nil
}

// assemble builds the canonical encoding of list k from its stored parts,
// read from one snapshot, without decoding them.
//
// It relies on the layout of the crdt encoding (crdt/codec.go):
//
//	list = [2, id bin16, name str, nameAt ts, floor ts?, (deletion,) [item...]]
//
// A stored part is itself the encoding of a list: the name part holds the
// header (name, floor, and the deletion if the list has one: then the list
// is an array of 7) and no items; an item part holds exactly one item and
// the zero name and stamp, no floor and no deletion. An item is an array
// of 12 fields, or 13 with its author; its bytes are copied as they are.
// An item encodes the same wherever it is, and the store's keys sort item
// parts by item key bytewise, which is the order of items in the encoding.
// So the list's encoding is the name part's bytes up to its empty item array
// (or, without a name part, the empty list's), then the item count, then each
// item part's item bytes in key order.
//
// Each value's framing and CRC-32C are verified, and its bytes checked to be
// the part its key names (the list ID, the kind of part, the item key), as
// decodePart does after decoding; a value that fails makes assemble return
// errNotAssembled. The layout says where the header and each item lie in
// the encoding (patch.go). The item bytes themselves are not decoded: a value whose
// checksum verifies is what SaveMerge wrote, the encoding of a part it had
// decoded or merged, so it decodes. It returns ErrNotFound if nothing of the
// list is stored.
//
// A part written by an earlier format version of the list differs from
// the empty list's start (the version) and is declined: Load decodes it,
// which converts it, and the next write of the part stores it in the
// current version.
func (s *Store) assemble(k listKey) ([]byte, layout, error) {
	id := k.id()
	empty := crdt.Empty(id).Encode()
	emptyHead := empty[:len(empty)-1] // without the empty item array
	fixed := 2 + 2 + len(id)          // [5, version, bin16 id: the start of every part
	var head []byte
	items := make([]byte, 0, 8<<10) // a 30-item list takes about 6 KiB
	var starts []int32              // offset of each item in items
	n, bad := 0, false
	err := s.scanList(k, func(key, raw []byte) {
		p, ok := parsePartKey(key)
		payload, err := decodeValue(raw)
		switch {
		case bad:
		case !ok || err != nil || len(payload) < len(emptyHead)+1 || !bytes.Equal(payload[1:fixed], empty[1:fixed]):
			bad = true
		case p.name:
			// The name part sorts first: [6, 2, id, name, nameAt, floor, []],
			// or [7, ..., floor, deletion, []] for a deleted list.
			head = bytes.Clone(payload[:len(payload)-1])
			bad = payload[len(payload)-1] != empty[len(empty)-1] || !namePartShape(payload[0], payload[fixed:len(payload)-1])
		default:
			// [6, version, id, "", zero, nil, [item]], item = [key, ...].
			item := payload[len(emptyHead)+1:]
			bad = !bytes.Equal(payload[:len(emptyHead)], emptyHead) || payload[len(emptyHead)] != 0x91 ||
				len(item) == 0 || (item[0] != itemArray && item[0] != signedItemArray) || !strHolds(item[1:], p.item)
			starts = append(starts, int32(len(items)))
			items = append(items, item...)
			n++
		}
	})
	lay := layout{named: head != nil}
	switch {
	case err != nil:
		return nil, layout{}, err
	case bad:
		return nil, layout{}, errNotAssembled
	case head == nil && n == 0:
		return nil, layout{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	case head == nil:
		head = emptyHead
	}
	out := make([]byte, 0, len(head)+3+len(items))
	out = append(out, head...)
	out = appendItemCount(out, n)
	lay.head = int32(len(head))
	for i := range starts {
		starts[i] += int32(len(out))
	}
	lay.items = starts
	return append(out, items...), lay, nil
}

// The msgpack headers of the arrays assemble relies on (crdt/codec.go): an
// item is a fixarray of 12 fields, 13 with its author; a list one of 6
// fields, 7 with its deletion.
const (
	itemArray       = 0x90 | 12
	signedItemArray = 0x90 | 13
	listArray       = 0x90 | 6
	deletedArray    = 0x90 | 7
)

// namePartShape reports whether b, a name part without its leading
// [6, 2, id (array being that header) and trailing item array, is a name
// string, a 28-byte stamp, a floor (nil or a 28-byte stamp) and, in a list
// of 7 fields, a deletion: exactly the bytes those fields take.
func namePartShape(array byte, b []byte) bool {
	n, h := strHeader(b)
	if (array != listArray && array != deletedArray) || h == 0 || len(b) < h+n+2+28+1 || b[h+n] != 0xc4 || b[h+n+1] != 28 {
		return false
	}
	rest := b[h+n+2+28:]
	switch {
	case len(rest) >= 1 && rest[0] == 0xc0:
		rest = rest[1:]
	case len(rest) >= 2+28 && rest[0] == 0xc4 && rest[1] == 28:
		rest = rest[2+28:]
	default:
		return false
	}
	if array == listArray {
		return len(rest) == 0
	}
	return deletionShape(rest)
}

// deletionShape reports whether b is exactly a deletion: [at bin28,
// deleted bool, by str].
func deletionShape(b []byte) bool {
	if len(b) < 1+2+28+1 || b[0] != 0x93 || b[1] != 0xc4 || b[2] != 28 || (b[3+28] != 0xc2 && b[3+28] != 0xc3) {
		return false
	}
	by := b[3+28+1:]
	n, h := strHeader(by)
	return h > 0 && len(by) == h+n
}

// strHolds reports whether b starts with the msgpack string s.
func strHolds(b []byte, s string) bool {
	n, h := strHeader(b)
	return h > 0 && n == len(s) && len(b) >= h+n && string(b[h:h+n]) == s
}

// strHeader reads a msgpack str header at the start of b and returns the
// string's length and the header's size; the size is 0 if b does not start
// with one.
func strHeader(b []byte) (n, size int) {
	switch {
	case len(b) >= 1 && b[0]&0xe0 == 0xa0: // fixstr
		return int(b[0] & 0x1f), 1
	case len(b) >= 2 && b[0] == 0xd9: // str 8
		return int(b[1]), 2
	case len(b) >= 3 && b[0] == 0xda: // str 16
		return int(binary.BigEndian.Uint16(b[1:])), 3
	}
	return 0, 0
}

// CachedState is CachedEncoded with the crdt.StateHash of the encoding,
// which is computed once for each state the cache holds.
func (s *Store) CachedState(id uuid.UUID) (enc []byte, hash uint64, ok bool) {
	if s.begin() != nil {
		return nil, 0, false
	}
	defer s.end()
	return s.encoded.getHashed(id)
}

// CachedEncoded returns the list's encoding if it is in the cache, without
// touching the engine: it never blocks on disk, so a socket loop may call it
// and hand only the misses to workers. It gives the same answer LoadEncoded
// would (a cached entry is dropped before the SaveMerge that changed the
// list returns). ok is false on a miss or when the store is closed.
func (s *Store) CachedEncoded(id uuid.UUID) (enc []byte, ok bool) {
	if s.begin() != nil {
		return nil, false
	}
	defer s.end()
	return s.encoded.get(id)
}
