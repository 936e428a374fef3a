package storage

import (
	"bytes"
	"encoding/binary"
	"slices"
	"sort"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// A write brings a cached encoding up to date rather than dropping it: a
// list that is read is usually read again right after it is written (a
// client pulls after it pushes, and every owner of the list is asked), and
// assembling it again from the engine costs an iterator over all its parts,
// where splicing the few parts a write stored into the cached bytes costs
// one copy of them.

// layout says where the parts of a canonical list encoding (see assemble)
// lie in it, so that the parts a write stores can be spliced in.
type layout struct {
	named bool    // a name part is stored; without one the header is the empty list's
	head  int32   // length of the header: the bytes before the item array
	items []int32 // offset of each item, in key order
}

// partWrite is one part a write stored: the part's new payload (the crdt
// encoding of the part, as stored after its framing), or nil if the part
// was deleted.
type partWrite struct {
	part    partKey
	payload []byte
}

// emptyHeadLen is the length of the empty list's encoding without its item
// array: every item part starts with such a header (see assemble). An ID is
// a fixed-size bin16, so the length is the same for every list.
var emptyHeadLen = len(crdt.Empty(uuid.UUID{}).Encode()) - 1

// patch returns the canonical encoding of a list, and its layout, after a
// write that stored writes, given the encoding enc, laid out as lay, that
// the list had before. The writes set parts to what is stored now, so
// patching an encoding that already holds them gives it back unchanged.
// ok is false when the result cannot be spliced: the name part was
// deleted, a payload is not the shape of a stored part, or nothing of the
// list is left; the caller then drops the encoding.
//
// It relies on what assemble relies on: the header is the name part's
// payload without its empty item array, an item is the item part's payload
// after the empty list's header and a one-element array header, and items
// are in bytewise order of their keys, which lead each item as a string.
func patch(enc []byte, lay layout, writes []partWrite) (out []byte, outLay layout, ok bool) {
	head := enc[:lay.head]
	named := lay.named
	items := make([][]byte, len(lay.items), len(lay.items)+len(writes))
	for i, off := range lay.items {
		end := int32(len(enc))
		if i+1 < len(lay.items) {
			end = lay.items[i+1]
		}
		items[i] = enc[off:end]
	}
	for _, w := range writes {
		if w.part.name {
			if len(w.payload) < emptyHeadLen+1 {
				return nil, layout{}, false // deleted, or not a name part
			}
			head, named = w.payload[:len(w.payload)-1], true
			continue
		}
		var item []byte
		if w.payload != nil {
			if len(w.payload) <= emptyHeadLen+1 || w.payload[emptyHeadLen] != 0x91 {
				return nil, layout{}, false
			}
			item = w.payload[emptyHeadLen+1:]
		}
		key := []byte(w.part.item)
		i, found := sort.Find(len(items), func(i int) int { return bytes.Compare(key, itemKey(items[i])) })
		switch {
		case found && item == nil:
			items = slices.Delete(items, i, i+1)
		case found:
			items[i] = item
		case item != nil:
			items = slices.Insert(items, i, item)
		}
	}
	if !named && len(items) == 0 {
		return nil, layout{}, false
	}
	size := len(head) + 3
	for _, it := range items {
		size += len(it)
	}
	out = make([]byte, 0, size)
	out = append(out, head...)
	out = appendItemCount(out, len(items))
	outLay = layout{named: named, head: int32(len(head)), items: make([]int32, len(items))}
	for i, it := range items {
		outLay.items[i] = int32(len(out))
		out = append(out, it...)
	}
	return out, outLay, true
}

// appendItemCount appends the msgpack header of an array of n items; n is
// at most crdt.MaxItems.
func appendItemCount(b []byte, n int) []byte {
	if n < 16 {
		return append(b, 0x90|byte(n)) // fixarray
	}
	return binary.BigEndian.AppendUint16(append(b, 0xdc), uint16(n)) // array 16
}

// itemKey returns the key that leads an encoded item, [key str, ...]; the
// item is one assemble or patch placed, so its shape has been checked.
func itemKey(item []byte) []byte {
	n, h := strHeader(item[1:])
	return item[1+h : 1+h+n]
}
