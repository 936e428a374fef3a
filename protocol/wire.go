package protocol

import (
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/google/uuid"
)

// This file holds the subset of msgpack the protocol uses: unsigned
// integers, str, bin, nil and arrays. Writers emit the shortest form;
// readers accept every width of a format (as the msgpack spec asks), never
// allocate by a claimed length, and never read past the input.

// msgpack format bytes.
const (
	mpNil     = 0xc0
	mpBin8    = 0xc4
	mpBin16   = 0xc5
	mpBin32   = 0xc6
	mpUint8   = 0xcc
	mpUint16  = 0xcd
	mpUint32  = 0xce
	mpUint64  = 0xcf
	mpInt8    = 0xd0
	mpInt16   = 0xd1
	mpInt32   = 0xd2
	mpInt64   = 0xd3
	mpStr8    = 0xd9
	mpStr16   = 0xda
	mpStr32   = 0xdb
	mpArray16 = 0xdc
	mpArray32 = 0xdd
)

func appendUint(b []byte, v uint64) []byte {
	switch {
	case v <= 0x7f:
		return append(b, byte(v))
	case v <= math.MaxUint8:
		return append(b, mpUint8, byte(v))
	case v <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, mpUint16), uint16(v))
	case v <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, mpUint32), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(b, mpUint64), v)
}

// appendLen appends a str, bin or array header: fix is the fixed-length
// format's base (0 when the family has none) and fixMax its largest length.
func appendLen(b []byte, n int, fix byte, fixMax int, f8, f16, f32 byte) []byte {
	switch {
	case fix != 0 && n <= fixMax:
		return append(b, fix|byte(n))
	case f8 != 0 && n <= math.MaxUint8:
		return append(b, f8, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, f16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, f32), uint32(n))
}

func appendArrayLen(b []byte, n int) []byte {
	return appendLen(b, n, 0x90, 15, 0, mpArray16, mpArray32)
}

func appendStr(b []byte, s string) []byte {
	return append(appendLen(b, len(s), 0xa0, 31, mpStr8, mpStr16, mpStr32), s...)
}

func appendBin(b []byte, p []byte) []byte {
	return append(appendLen(b, len(p), 0, 0, mpBin8, mpBin16, mpBin32), p...)
}

// appendListID appends a list ID as bin 16, or nil for the nil UUID.
func appendListID(b []byte, id uuid.UUID) []byte {
	if id == uuid.Nil {
		return append(b, mpNil)
	}
	return append(append(b, mpBin8, 16), id[:]...)
}

// reader decodes msgpack from b, keeping the first error so that a decoder
// reads straight through its grammar and checks once at the end.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(sentinel error, format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
	}
}

// take consumes n bytes; the result aliases the input.
func (r *reader) take(n uint64, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.fail(ErrMalformed, "%s: truncated", what)
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

// be reads a big-endian unsigned integer of size bytes (1, 2, 4 or 8).
func (r *reader) be(size uint64, what string) uint64 {
	p := r.take(size, what)
	var v uint64
	for _, c := range p {
		v = v<<8 | uint64(c)
	}
	return v
}

func (r *reader) format(what string) byte {
	p := r.take(1, what)
	if p == nil {
		return 0
	}
	return p[0]
}

// peekNil consumes a nil and reports whether there was one.
func (r *reader) peekNil() bool {
	if r.err == nil && len(r.b) > 0 && r.b[0] == mpNil {
		r.b = r.b[1:]
		return true
	}
	return false
}

// uint reads a non-negative integer in any msgpack integer format. The
// positive fixint case, most header fields, is inlined.
func (r *reader) uint(what string) uint64 {
	if r.err == nil && len(r.b) > 0 && r.b[0] <= 0x7f {
		v := r.b[0]
		r.b = r.b[1:]
		return uint64(v)
	}
	return r.uintSlow(what)
}

func (r *reader) uintSlow(what string) uint64 {
	c := r.format(what)
	if r.err != nil {
		return 0
	}
	switch {
	case c <= 0x7f:
		return uint64(c)
	case c >= mpUint8 && c <= mpUint64:
		return r.be(1<<(c-mpUint8), what)
	case c >= mpInt8 && c <= mpInt64:
		size := uint64(1) << (c - mpInt8)
		v := r.be(size, what)
		if r.err == nil && v>>(8*size-1) != 0 {
			r.fail(ErrMalformed, "%s is negative", what)
			return 0
		}
		return v
	case c >= 0xe0:
		r.fail(ErrMalformed, "%s is negative", what)
		return 0
	}
	r.fail(ErrMalformed, "%s: want an integer, got format 0x%02x", what, c)
	return 0
}

// length reads the header of a str, bin or array and returns its length;
// family names it in errors.
func (r *reader) length(what string, fix, fixMask byte, f8, f16, f32 byte, family string) uint64 {
	c := r.format(what)
	switch {
	case r.err != nil:
		return 0
	case fixMask != 0 && c&^fixMask == fix:
		return uint64(c & fixMask)
	case f8 != 0 && c == f8:
		return r.be(1, what)
	case c == f16:
		return r.be(2, what)
	case c == f32:
		return r.be(4, what)
	}
	r.fail(ErrMalformed, "%s: want %s, got format 0x%02x", what, family, c)
	return 0
}

// arrayLen reads an array header. Each element takes at least one byte, so a
// length beyond the remaining input is reported as truncation.
func (r *reader) arrayLen(what string) int {
	n := r.length(what, 0x90, 0x0f, 0, mpArray16, mpArray32, "an array")
	if r.err == nil && n > uint64(len(r.b)) {
		r.fail(ErrMalformed, "%s: %d elements in %d bytes", what, n, len(r.b))
		return 0
	}
	return int(n)
}

// fixedArray reads an array header that must announce exactly n fields.
func (r *reader) fixedArray(what string, n int) {
	if got := r.arrayLen(what); r.err == nil && got != n {
		r.fail(ErrMalformed, "%s has %d fields, want %d", what, got, n)
	}
}

// listArray reads an array header of at most max entries.
func (r *reader) listArray(what string, max int) int {
	n := r.arrayLen(what)
	if r.err == nil && n > max {
		r.fail(ErrTooLarge, "%s has %d entries, at most %d allowed", what, n, max)
		return 0
	}
	return n
}

// str reads a UTF-8 string of at most max bytes.
func (r *reader) str(what string, max int) string {
	n := r.length(what, 0xa0, 0x1f, mpStr8, mpStr16, mpStr32, "a str")
	if r.err == nil && n > uint64(max) {
		r.fail(ErrTooLarge, "%s is %d bytes, at most %d allowed", what, n, max)
		return ""
	}
	p := r.take(n, what)
	if r.err == nil && !utf8.Valid(p) {
		r.fail(ErrMalformed, "%s is not valid UTF-8", what)
		return ""
	}
	return string(p)
}

// bin reads a byte string of at most max bytes, aliasing the input.
func (r *reader) bin(what string, max int) []byte {
	n := r.length(what, 0, 0, mpBin8, mpBin16, mpBin32, "a bin")
	if r.err == nil && n > uint64(max) {
		r.fail(ErrTooLarge, "%s is %d bytes, at most %d allowed", what, n, max)
		return nil
	}
	return r.take(n, what)
}

// listID reads a version 4 list ID encoded as bin 16.
func (r *reader) listID(what string) uuid.UUID {
	n := r.length(what, 0, 0, mpBin8, mpBin16, mpBin32, "a bin")
	if r.err == nil && n != 16 {
		r.fail(ErrInvalidID, "%s is %d bytes, want 16", what, n)
	}
	p := r.take(n, what)
	if r.err != nil {
		return uuid.Nil
	}
	id := uuid.UUID(p)
	if why := listIDProblem(id); why != "" {
		r.fail(ErrInvalidID, "%s %s", what, why)
		return uuid.Nil
	}
	return id
}

// end checks that the input is used up.
func (r *reader) end(what string) {
	if r.err == nil && len(r.b) != 0 {
		r.fail(ErrMalformed, "%s: %d trailing bytes", what, len(r.b))
	}
}
