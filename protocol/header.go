package protocol

import (
	"fmt"

	"github.com/google/uuid"
)

// headerFields is the length of the header array in this version.
const headerFields = 5

// Header is the first frame of every message, encoded as the msgpack array
//
//	[version uint, type uint, requestID uint, listID bin16|nil, epoch uint]
//
// Elements 0 (version) and 2 (request ID) keep their meaning in every
// version, so a receiver can address an UnsupportedVersion reply.
type Header struct {
	Version uint8 // protocol version; Version for everything this package sends
	Type    Type
	// RequestID correlates a reply with its request: the requester picks
	// it (nonzero, unique among its outstanding requests) and the reply
	// echoes it. Notifications (Heartbeat, LiveUpdate) carry 0.
	RequestID uint64
	// ListID is the list the message is about; uuid.Nil (encoded as msgpack
	// nil) for types that concern no list.
	ListID uuid.UUID
	// Epoch is the ring epoch the request was routed under, or the
	// sender's current epoch on other messages; 0 means unknown.
	Epoch uint64
}

// Append appends the header's encoding, in shortest msgpack form, to dst.
// It does not validate h; see Message.Validate. It allocates only when dst
// lacks capacity (MaxHeaderSize always suffices).
func (h Header) Append(dst []byte) []byte {
	dst = append(dst, 0x90|headerFields)
	dst = appendUint(dst, uint64(h.Version))
	dst = appendUint(dst, uint64(h.Type))
	dst = appendUint(dst, h.RequestID)
	dst = appendListID(dst, h.ListID)
	return appendUint(dst, h.Epoch)
}

// Encode returns the header's encoding.
func (h Header) Encode() []byte { return h.Append(make([]byte, 0, MaxHeaderSize)) }

// ParseHeader decodes a header frame strictly: the frame must be at most
// MaxHeaderSize bytes, hold exactly one 5-element array of this version with
// nothing after it, name a known type, and obey that type's rules for the
// list ID and request ID. Errors wrap ErrTooLarge, ErrUnsupportedVersion,
// ErrUnknownType, ErrInvalidID or ErrMalformed; the Header is then zero. It
// does not allocate unless it fails.
func ParseHeader(b []byte) (Header, error) {
	if len(b) > MaxHeaderSize {
		return Header{}, fmt.Errorf("%w: header frame is %d bytes, at most %d allowed", ErrTooLarge, len(b), MaxHeaderSize)
	}
	r := reader{b: b}
	n := r.arrayLen("header")
	if r.err == nil && n < 1 {
		r.fail(ErrMalformed, "header: empty array")
	}
	v := r.uint("header version")
	if r.err == nil && v != uint64(Version) {
		r.fail(ErrUnsupportedVersion, "header version %d; this peer speaks %d", v, Version)
	}
	if r.err == nil && n != headerFields {
		r.fail(ErrMalformed, "header has %d fields, want %d", n, headerFields)
	}
	t := r.uint("message type")
	if r.err == nil && (t > 0xff || !Type(t).Known()) {
		r.fail(ErrUnknownType, "message type %d", t)
	}
	h := Header{Version: uint8(v), Type: Type(t), RequestID: r.uint("request ID")}
	if !r.peekNil() {
		h.ListID = r.listID("header list ID")
	}
	h.Epoch = r.uint("epoch")
	r.end("header")
	if r.err != nil {
		return Header{}, r.err
	}
	if err := h.checkRules(); err != nil {
		return Header{}, err
	}
	return h, nil
}

// check applies the per-type rules to a header and validates its list ID.
func (h Header) check() error {
	if err := h.checkRules(); err != nil {
		return err
	}
	if h.ListID != uuid.Nil {
		return CheckListID(h.ListID)
	}
	return nil
}

// checkRules applies the per-type rules to a header; ParseHeader has
// already validated the list ID while reading it.
func (h Header) checkRules() error {
	if h.Version != Version {
		return fmt.Errorf("%w: header version %d; this peer speaks %d", ErrUnsupportedVersion, h.Version, Version)
	}
	s, ok := lookup(h.Type)
	if !ok {
		return fmt.Errorf("%w: message type %d", ErrUnknownType, h.Type)
	}
	switch {
	case s.list == listRequired && h.ListID == uuid.Nil:
		return fmt.Errorf("%w: %v needs a list ID", ErrInvalidID, h.Type)
	case s.list == listNone && h.ListID != uuid.Nil:
		return fmt.Errorf("%w: %v carries no list ID, got %s", ErrMalformed, h.Type, h.ListID)
	case s.req == reqNonZero && h.RequestID == 0:
		return fmt.Errorf("%w: %v needs a nonzero request ID", ErrMalformed, h.Type)
	case s.req == reqZero && h.RequestID != 0:
		return fmt.Errorf("%w: %v is a notification, request ID must be 0, got %d", ErrMalformed, h.Type, h.RequestID)
	}
	return nil
}

// RequestIDOf returns the request ID of a message's header frame, frames[0],
// as far as it can be read, and 0 otherwise. It reads only the array header
// and elements 0 to 2 (at most 28 bytes), so it works on headers that
// ParseHeader refuses (an unsupported version, an unknown type, a bad list
// ID, an oversize frame), letting a receiver address its Error reply.
func RequestIDOf(frames [][]byte) uint64 {
	if len(frames) == 0 {
		return 0
	}
	r := reader{b: frames[0]}
	if n := r.arrayLen("header"); n < 3 {
		return 0
	}
	r.uint("header version")
	r.uint("message type")
	id := r.uint("request ID")
	if r.err != nil {
		return 0
	}
	return id
}
