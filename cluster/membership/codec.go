package membership

import (
	"bytes"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// reader decodes the msgpack subset of commands and snapshots: unsigned
// integers, strings and arrays. It keeps the first error, so a decoder reads
// straight through its grammar and checks once at the end. Every length is
// checked against a maximum before anything is allocated for it, and the
// input is a byte slice whose size the caller has bounded.
type reader struct {
	src *bytes.Reader
	dec *msgpack.Decoder
	err error
}

func newReader(p []byte) *reader {
	src := bytes.NewReader(p)
	return &reader{src: src, dec: msgpack.NewDecoder(src)}
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
}

// peek returns the next format byte, or false after an error.
func (r *reader) peek(what string) (byte, bool) {
	if r.err != nil {
		return 0, false
	}
	c, err := r.dec.PeekCode()
	if err != nil {
		r.fail("%s: truncated", what)
		return 0, false
	}
	return c, true
}

// uint reads an unsigned integer of at most max.
func (r *reader) uint(what string, max uint64) uint64 {
	c, ok := r.peek(what)
	if !ok {
		return 0
	}
	if c > msgpcode.PosFixedNumHigh && c != msgpcode.Uint8 && c != msgpcode.Uint16 && c != msgpcode.Uint32 && c != msgpcode.Uint64 {
		r.fail("%s: not an unsigned integer (format 0x%02x)", what, c)
		return 0
	}
	v, err := r.dec.DecodeUint64()
	if err != nil {
		r.fail("%s: %v", what, err)
		return 0
	}
	if v > max {
		r.fail("%s: %d, at most %d allowed", what, v, max)
		return 0
	}
	return v
}

// str reads a string of at most max bytes.
func (r *reader) str(what string, max int) string {
	c, ok := r.peek(what)
	if !ok {
		return ""
	}
	if !msgpcode.IsFixedString(c) && c != msgpcode.Str8 && c != msgpcode.Str16 && c != msgpcode.Str32 {
		r.fail("%s: not a string (format 0x%02x)", what, c)
		return ""
	}
	n, err := r.dec.DecodeBytesLen()
	switch {
	case err != nil:
		r.fail("%s: %v", what, err)
		return ""
	case n < 0 || n > max:
		r.fail("%s: %d bytes, at most %d allowed", what, n, max)
		return ""
	case n > r.src.Len():
		r.fail("%s: truncated", what)
		return ""
	}
	p := make([]byte, n)
	if err := r.dec.ReadFull(p); err != nil {
		r.fail("%s: %v", what, err)
		return ""
	}
	return string(p)
}

// array reads an array header of at most max elements.
func (r *reader) array(what string, max int) int {
	c, ok := r.peek(what)
	if !ok {
		return 0
	}
	if !msgpcode.IsFixedArray(c) && c != msgpcode.Array16 && c != msgpcode.Array32 {
		r.fail("%s: not an array (format 0x%02x)", what, c)
		return 0
	}
	n, err := r.dec.DecodeArrayLen()
	switch {
	case err != nil:
		r.fail("%s: %v", what, err)
		return 0
	case n < 0 || n > max:
		r.fail("%s: %d elements, at most %d allowed", what, n, max)
		return 0
	}
	return n
}

// end reports the first error, or an error if input is left over.
func (r *reader) end(what string) error {
	if r.err == nil && r.src.Len() != 0 {
		r.fail("%s: %d trailing bytes", what, r.src.Len())
	}
	return r.err
}

// writer encodes the same subset, always in the shortest form, so a value
// has one encoding. Writes to a bytes.Buffer cannot fail.
type writer struct {
	buf bytes.Buffer
	enc *msgpack.Encoder
}

func newWriter() *writer {
	w := &writer{}
	w.enc = msgpack.NewEncoder(&w.buf)
	return w
}

func (w *writer) uint(v uint64) { _ = w.enc.EncodeUint(v) }
func (w *writer) str(s string)  { _ = w.enc.EncodeString(s) }
func (w *writer) array(n int)   { _ = w.enc.EncodeArrayLen(n) }
func (w *writer) bytes() []byte { return w.buf.Bytes() }
