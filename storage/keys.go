package storage

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/google/uuid"

	"shoplist/hashring"
)

// Key prefixes. Every key starts with one of these bytes.
const (
	prefixList       = 'l' // list parts: listKey | part
	prefixDamaged    = 'd' // damaged-list markers: 'd' | position | ID
	prefixQuarantine = 'q' // quarantined values: 'q' | original key | time
	prefixMeta       = 'm' // store metadata
	prefixHint       = 'h' // hint records: 'h' | list ID | owner server ID
)

// Part tags, the byte after a list prefix.
const (
	partName = 0x00 // the name part; nothing follows the tag
	partItem = 0x01 // an item part; the item's normalised key follows
)

// listKeyLen is the length of a list prefix: tag, position and ID.
const listKeyLen = 1 + 8 + 16

// metaFormatKey holds the store layout version, layoutVersion.
var metaFormatKey = []byte{prefixMeta, 'f', 'o', 'r', 'm', 'a', 't'}

// layoutVersion is the version of the key layout described in doc.go.
const layoutVersion = 1

// listKey is the prefix of every key of one list: 'l', its ring position
// (big-endian, so key order is ring order) and its ID.
type listKey [listKeyLen]byte

// keyOf returns the list prefix of the list id.
func keyOf(id uuid.UUID) listKey {
	var k listKey
	k[0] = prefixList
	binary.BigEndian.PutUint64(k[1:9], hashring.Position(id.String()))
	copy(k[9:], id[:])
	return k
}

// position returns the ring position in k.
func (k listKey) position() uint64 { return binary.BigEndian.Uint64(k[1:9]) }

// id returns the list ID in k.
func (k listKey) id() uuid.UUID { return uuid.UUID(k[9:]) }

// end returns the first key after every key that starts with k: k read as a
// big-endian number, plus one. k starts with 'l', so this never overflows.
func (k listKey) end() []byte {
	e := k
	for i := len(e) - 1; i >= 0; i-- {
		e[i]++
		if e[i] != 0 {
			break
		}
	}
	return e[:]
}

// nameKey returns the key of the list's name part.
func (k listKey) nameKey() []byte { return append(k[:], partName) }

// itemKey returns the key of the part of the item with normalised key item.
func (k listKey) itemKey(item string) []byte {
	b := make([]byte, 0, listKeyLen+1+len(item))
	b = append(b, k[:]...)
	b = append(b, partItem)
	return append(b, item...)
}

// damagedKey returns the key of the list's damaged marker.
func (k listKey) damagedKey() []byte {
	b := k
	b[0] = prefixDamaged
	return b[:]
}

// partKey is a parsed part key.
type partKey struct {
	list listKey
	name bool   // the name part
	item string // the item key, for an item part
}

// parsePartKey parses a key under the list prefix; ok is false for keys that
// the layout never writes.
func parsePartKey(key []byte) (p partKey, ok bool) {
	if len(key) <= listKeyLen || key[0] != prefixList {
		return partKey{}, false
	}
	copy(p.list[:], key[:listKeyLen])
	switch tag, rest := key[listKeyLen], key[listKeyLen+1:]; {
	case tag == partName && len(rest) == 0:
		p.name = true
	case tag == partItem && len(rest) > 0:
		p.item = string(rest)
	default:
		return partKey{}, false
	}
	return p, true
}

// describeKey renders a stored key for people: its list and part.
func describeKey(key []byte) string {
	p, ok := parsePartKey(key)
	switch {
	case !ok && len(key) >= listKeyLen && key[0] == prefixList:
		return fmt.Sprintf("list %s unknown part %x", uuid.UUID(key[9:listKeyLen]), key[listKeyLen:])
	case !ok:
		return fmt.Sprintf("%x", key)
	case p.name:
		return fmt.Sprintf("list %s name part", p.list.id())
	default:
		return fmt.Sprintf("list %s item %s", p.list.id(), strconv.Quote(p.item))
	}
}

// listBounds returns the keys [lo, hi) of lists whose ring position is in the
// closed interval [from, to].
func listBounds(from, to uint64) (lo, hi []byte) {
	lo = binary.BigEndian.AppendUint64([]byte{prefixList}, from)
	if to == ^uint64(0) {
		return lo, []byte{prefixList + 1}
	}
	return lo, binary.BigEndian.AppendUint64([]byte{prefixList}, to+1)
}
