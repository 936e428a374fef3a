package protocol

import "fmt"

// Message is one protocol message: a header and a body. On the wire it is a
// ZeroMQ multipart message of exactly two frames, [header][body], after any
// routing identities (ROUTER); on PUB it travels sealed (LiveKey.Seal). The body is opaque list bytes
// for list-carrying types, a typed msgpack body for the others, or empty.
type Message struct {
	Header
	Body []byte // nil when empty
}

// framesBuf lets Frames return its slice and the header bytes in one
// allocation.
type framesBuf struct {
	frames [2][]byte
	header [MaxHeaderSize]byte
}

// Frames returns the message's two frames, [header][body]. The body frame
// is m.Body itself, not a copy. Frames makes one allocation.
func (m Message) Frames() [][]byte {
	buf := new(framesBuf)
	buf.frames[0] = m.Header.Append(buf.header[:0])
	buf.frames[1] = m.Body
	return buf.frames[:]
}

// AppendFrames appends the message's two frames to dst: a ROUTER replies
// with m.AppendFrames(identity) (SplitRouting caps identity's capacity, so
// this never overwrites the frames it came from).
func (m Message) AppendFrames(dst [][]byte) [][]byte {
	return append(dst, m.Header.Encode(), m.Body)
}

// Parse decodes a message from its frames, which must be exactly
// [header][body] (strip routing identities first with SplitRouting). The
// header is checked as by ParseHeader and the body's size against its
// type's limit; typed bodies are decoded separately (DecodeErrorBody and
// friends) and list bodies not at all. m.Body aliases frames[1].
func Parse(frames [][]byte) (Message, error) {
	if len(frames) != 2 {
		return Message{}, fmt.Errorf("%w: %d frames, want 2 ([header][body])", ErrMalformed, len(frames))
	}
	h, err := ParseHeader(frames[0])
	if err != nil {
		return Message{}, err
	}
	if err := checkBody(h.Type, frames[1]); err != nil {
		return Message{}, err
	}
	m := Message{Header: h, Body: frames[1]}
	if len(m.Body) == 0 {
		m.Body = nil
	}
	return m, nil
}

// Validate reports whether m breaks a rule that Parse enforces, so a sender
// can check a message before sending it. Typed bodies are not decoded.
func (m Message) Validate() error {
	if err := m.Header.check(); err != nil {
		return err
	}
	return checkBody(m.Type, m.Body)
}

func checkBody(t Type, body []byte) error {
	s, _ := lookup(t)
	limit := 0
	switch s.body {
	case bodyEmpty:
		if len(body) != 0 {
			return fmt.Errorf("%w: %v takes no body, got %d bytes", ErrMalformed, t, len(body))
		}
		return nil
	case bodyListOrEmpty:
		limit = MaxListSize
	case bodyList:
		limit = MaxListSize
		if len(body) == 0 {
			return fmt.Errorf("%w: %v needs a list body", ErrMalformed, t)
		}
	case bodyControlOrEmpty:
		limit = MaxControlBodySize
	case bodyControl, bodyHint, bodyBatch:
		limit = MaxControlBodySize
		switch s.body {
		case bodyHint:
			limit = MaxHintBodySize
		case bodyBatch:
			limit = MaxBatchBodySize
		}
		if len(body) == 0 {
			return fmt.Errorf("%w: %v needs a body", ErrMalformed, t)
		}
	}
	if len(body) > limit {
		return fmt.Errorf("%w: %v body is %d bytes, at most %d allowed", ErrTooLarge, t, len(body), limit)
	}
	return nil
}

// SplitRouting splits what a ROUTER socket received into the routing
// identity and the message frames [header][body]. Peers connect with DEALER
// sockets and send no empty delimiter frame, so a ROUTER receives
// [identity][header][body]: exactly MaxRoutingDepth identity frames, each 1
// to MaxIdentitySize bytes. An empty frame in the identity position (a REQ
// peer's delimiter) is refused. identity has its capacity capped, so
// appending a reply's frames to it never overwrites rest.
func SplitRouting(frames [][]byte) (identity, rest [][]byte, err error) {
	k := len(frames) - 2
	if k < 1 || k > MaxRoutingDepth {
		return nil, nil, fmt.Errorf("%w: %d frames from ROUTER, want %d identity frame(s) then [header][body]", ErrMalformed, len(frames), MaxRoutingDepth)
	}
	for i, id := range frames[:k] {
		if len(id) == 0 || len(id) > MaxIdentitySize {
			return nil, nil, fmt.Errorf("%w: routing frame %d is %d bytes (an empty one is a delimiter, which this protocol does not use)", ErrMalformed, i, len(id))
		}
	}
	return frames[:k:k], frames[k:], nil
}
