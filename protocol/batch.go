package protocol

import (
	"encoding/binary"
	"fmt"
)

// A Batch's body is its messages one after the other, each as
//
//	uvarint(len(header)) header uvarint(len(body)) body
//
// where header and body are the two frames the message would have on its
// own. A Batch holds 2 to MaxBatchMessages messages, none of them a Batch,
// in at most MaxBatchBodySize bytes.
const (
	// MaxBatchMessages is the most messages one Batch carries.
	MaxBatchMessages = 64
	// MaxBatchBodySize bounds a Batch's body: room for one message of the
	// largest kind (a hinted list) and the rest small. A sender starts a
	// new Batch rather than go past it (Batcher).
	MaxBatchBodySize = MaxHintBodySize + MaxBatchMessages*(MaxHeaderSize+2*binary.MaxVarintLen32)
)

// batchEntrySize is what m takes in a Batch's body.
func batchEntrySize(headerLen, bodyLen int) int {
	return uvarintLen(headerLen) + headerLen + uvarintLen(bodyLen) + bodyLen
}

// headerSize is the size of h's frame.
func headerSize(h Header) int {
	var b [MaxHeaderSize]byte
	return len(h.Append(b[:0]))
}

func uvarintLen(n int) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], uint64(n))
}

// Batcher gathers the messages one side has for one peer and hands them
// out as few messages as the limits allow. The zero Batcher is empty and
// ready. It is not safe for concurrent use.
type Batcher struct {
	msgs  []Message
	bytes int // the Batch body msgs would make
}

// Len returns how many messages are gathered.
func (b *Batcher) Len() int { return len(b.msgs) }

// Fits reports whether m can join the gathered messages in one Batch.
func (b *Batcher) Fits(m Message) bool {
	if len(b.msgs) == 0 {
		return true
	}
	return len(b.msgs) < MaxBatchMessages && b.bytes+batchEntrySize(headerSize(m.Header), len(m.Body)) <= MaxBatchBodySize
}

// Add gathers m; the caller has checked Fits (or flushes first).
func (b *Batcher) Add(m Message) {
	b.msgs = append(b.msgs, m)
	b.bytes += batchEntrySize(headerSize(m.Header), len(m.Body))
}

// Take returns what is gathered as one message — the message itself when
// there is one, a Batch stamped with epoch when there are several — and
// empties the Batcher. ok is false when nothing is gathered.
func (b *Batcher) Take(epoch uint64) (m Message, ok bool) {
	switch len(b.msgs) {
	case 0:
		return Message{}, false
	case 1:
		m = b.msgs[0]
	default:
		body := make([]byte, 0, b.bytes)
		for _, x := range b.msgs {
			h := x.Header.Encode()
			body = binary.AppendUvarint(body, uint64(len(h)))
			body = append(body, h...)
			body = binary.AppendUvarint(body, uint64(len(x.Body)))
			body = append(body, x.Body...)
		}
		m = newMessage(TypeBatch, 0, [16]byte{}, epoch, body)
	}
	clear(b.msgs)
	b.msgs, b.bytes = b.msgs[:0], 0
	return m, true
}

// Unbatch returns the messages of a Batch's body, each checked as Parse
// checks a message that came alone. Their bodies alias body. It fails
// with ErrMalformed on a body that is not 2 to MaxBatchMessages
// well-formed entries, or that holds a Batch.
func Unbatch(body []byte) ([]Message, error) {
	if len(body) > MaxBatchBodySize {
		return nil, fmt.Errorf("%w: Batch body is %d bytes, at most %d allowed", ErrTooLarge, len(body), MaxBatchBodySize)
	}
	var out []Message
	for len(body) > 0 {
		if len(out) == MaxBatchMessages {
			return nil, fmt.Errorf("%w: Batch holds more than %d messages", ErrMalformed, MaxBatchMessages)
		}
		var frames [2][]byte
		for i := range frames {
			n, k := binary.Uvarint(body)
			if k <= 0 || n > uint64(len(body)-k) {
				return nil, fmt.Errorf("%w: Batch entry %d: frame %d runs past the body", ErrMalformed, len(out), i)
			}
			frames[i], body = body[k:k+int(n)], body[k+int(n):]
		}
		m, err := Parse(frames[:])
		if err != nil {
			return nil, fmt.Errorf("Batch entry %d: %w", len(out), err)
		}
		if m.Type == TypeBatch {
			return nil, fmt.Errorf("%w: Batch entry %d is a Batch", ErrMalformed, len(out))
		}
		out = append(out, m)
	}
	if len(out) < 2 {
		return nil, fmt.Errorf("%w: Batch holds %d messages, at least 2 expected", ErrMalformed, len(out))
	}
	return out, nil
}
