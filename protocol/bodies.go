package protocol

import (
	"fmt"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Every typed body is a msgpack array with a fixed number of fields, in the
// order of its struct. Encode validates and returns an error wrapping the
// same sentinels the decoder would; DecodeX checks the frame size first,
// then decodes strictly (exact array lengths, no trailing bytes, every
// field within its limit).

// ErrorBody is the body of an Error reply: [code uint, message str]. It is
// also an error, so a client can return a remote failure as is and CodeOf
// recovers its code.
type ErrorBody struct {
	Code    ErrorCode // nonzero; unknown codes are accepted
	Message string    // human-readable detail, at most MaxErrorMessageLen bytes of UTF-8
}

// Error formats the remote failure.
func (b ErrorBody) Error() string {
	return "protocol: remote error " + b.Code.String() + ": " + b.Message
}

func (b ErrorBody) check() error {
	switch {
	case b.Code == 0:
		return fmt.Errorf("%w: error code 0", ErrMalformed)
	case len(b.Message) > MaxErrorMessageLen:
		return fmt.Errorf("%w: error message is %d bytes, at most %d allowed", ErrTooLarge, len(b.Message), MaxErrorMessageLen)
	case !utf8.ValidString(b.Message):
		return fmt.Errorf("%w: error message is not valid UTF-8", ErrMalformed)
	}
	return nil
}

// Encode returns the body's encoding.
func (b ErrorBody) Encode() ([]byte, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	out := appendArrayLen(make([]byte, 0, 8+len(b.Message)), 2)
	out = appendUint(out, uint64(b.Code))
	return appendStr(out, b.Message), nil
}

// DecodeErrorBody decodes an Error reply's body.
func DecodeErrorBody(p []byte) (ErrorBody, error) {
	r, err := bodyReader("error body", p, MaxControlBodySize)
	if err != nil {
		return ErrorBody{}, err
	}
	r.fixedArray("error body", 2)
	code := r.uint("error code")
	if r.err == nil && (code == 0 || code > 0xff) {
		r.fail(ErrMalformed, "error code %d", code)
	}
	b := ErrorBody{Code: ErrorCode(code), Message: r.str("error message", MaxErrorMessageLen)}
	if err := finish(&r, "error body", b.check); err != nil {
		return ErrorBody{}, err
	}
	return b, nil
}

// WelcomeBody is the body of a Welcome: [pubEndpoint str, [endpoint str...],
// now uint]. The ring epoch is in the Welcome's header.
type WelcomeBody struct {
	// PubEndpoint is the address clients connect their SUB socket to.
	PubEndpoint string
	// Endpoints are the client endpoints of the proxies this proxy knows,
	// itself included, for failover: at most MaxEndpoints.
	Endpoints []string
	// Now is the proxy's wall clock (Unix milliseconds) when it answered,
	// so a client can detect a skewed clock before its pushes are refused.
	Now uint64
}

func (b WelcomeBody) check() error {
	if err := checkEndpoint("PUB endpoint", b.PubEndpoint); err != nil {
		return err
	}
	if len(b.Endpoints) > MaxEndpoints {
		return fmt.Errorf("%w: %d endpoints, at most %d allowed", ErrTooLarge, len(b.Endpoints), MaxEndpoints)
	}
	for _, e := range b.Endpoints {
		if err := checkEndpoint("client endpoint", e); err != nil {
			return err
		}
	}
	return nil
}

// Encode returns the body's encoding.
func (b WelcomeBody) Encode() ([]byte, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	out := appendArrayLen(nil, 3)
	out = appendStr(out, b.PubEndpoint)
	out = appendArrayLen(out, len(b.Endpoints))
	for _, e := range b.Endpoints {
		out = appendStr(out, e)
	}
	return appendUint(out, b.Now), nil
}

// DecodeWelcomeBody decodes a Welcome's body. Endpoints is nil when empty.
func DecodeWelcomeBody(p []byte) (WelcomeBody, error) {
	r, err := bodyReader("welcome body", p, MaxControlBodySize)
	if err != nil {
		return WelcomeBody{}, err
	}
	var b WelcomeBody
	r.fixedArray("welcome body", 3)
	b.PubEndpoint = r.str("PUB endpoint", MaxEndpointLen)
	n := r.listArray("endpoints", MaxEndpoints)
	for i := 0; i < n && r.err == nil; i++ {
		b.Endpoints = append(b.Endpoints, r.str("client endpoint", MaxEndpointLen))
	}
	b.Now = r.uint("welcome time")
	if err := finish(&r, "welcome body", b.check); err != nil {
		return WelcomeBody{}, err
	}
	return b, nil
}

// SubscribeBody is the body of a Subscribe or Unsubscribe: [[listID bin16
// ...]], 1 to MaxSubscribeLists distinct version 4 list IDs.
type SubscribeBody struct {
	Lists []uuid.UUID
}

func (b SubscribeBody) check() error {
	switch {
	case len(b.Lists) == 0:
		return fmt.Errorf("%w: no list IDs", ErrMalformed)
	case len(b.Lists) > MaxSubscribeLists:
		return fmt.Errorf("%w: %d list IDs, at most %d allowed", ErrTooLarge, len(b.Lists), MaxSubscribeLists)
	}
	for i, id := range b.Lists {
		if err := CheckListID(id); err != nil {
			return err
		}
		for _, prev := range b.Lists[:i] {
			if prev == id {
				return fmt.Errorf("%w: list ID %s repeated", ErrMalformed, id)
			}
		}
	}
	return nil
}

// Encode returns the body's encoding.
func (b SubscribeBody) Encode() ([]byte, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	out := appendArrayLen(make([]byte, 0, 4+18*len(b.Lists)), 1)
	out = appendArrayLen(out, len(b.Lists))
	for _, id := range b.Lists {
		out = appendListID(out, id)
	}
	return out, nil
}

// DecodeSubscribeBody decodes a Subscribe or Unsubscribe body.
func DecodeSubscribeBody(p []byte) (SubscribeBody, error) {
	r, err := bodyReader("subscribe body", p, MaxControlBodySize)
	if err != nil {
		return SubscribeBody{}, err
	}
	var b SubscribeBody
	r.fixedArray("subscribe body", 1)
	n := r.listArray("list IDs", MaxSubscribeLists)
	for i := 0; i < n && r.err == nil; i++ {
		b.Lists = append(b.Lists, r.listID("subscribed list ID"))
	}
	if err := finish(&r, "subscribe body", b.check); err != nil {
		return SubscribeBody{}, err
	}
	return b, nil
}

// ServerHelloBody is the body of a ServerHello: [serverID str]. The latest
// ring epoch the server has adopted is in the header.
type ServerHelloBody struct {
	ServerID string // see CheckServerID
}

// Encode returns the body's encoding.
func (b ServerHelloBody) Encode() ([]byte, error) {
	if err := CheckServerID(b.ServerID); err != nil {
		return nil, err
	}
	return appendStr(appendArrayLen(nil, 1), b.ServerID), nil
}

// DecodeServerHelloBody decodes a ServerHello's body.
func DecodeServerHelloBody(p []byte) (ServerHelloBody, error) {
	r, err := bodyReader("server hello body", p, MaxControlBodySize)
	if err != nil {
		return ServerHelloBody{}, err
	}
	r.fixedArray("server hello body", 1)
	b := ServerHelloBody{ServerID: r.str("server ID", MaxServerIDLen)}
	if err := finish(&r, "server hello body", func() error { return CheckServerID(b.ServerID) }); err != nil {
		return ServerHelloBody{}, err
	}
	return b, nil
}

// HintBody is the body of a HintedStore or Handoff: [owner str, list bin].
// Owner is the server the list state is meant for (the one that was down
// when it was written); List is the opaque list body.
type HintBody struct {
	Owner string // see CheckServerID
	List  []byte // 1 to MaxListSize bytes; aliases the input after decoding
}

func (b HintBody) check() error {
	if err := CheckServerID(b.Owner); err != nil {
		return err
	}
	switch {
	case len(b.List) == 0:
		return fmt.Errorf("%w: hint without a list body", ErrMalformed)
	case len(b.List) > MaxListSize:
		return fmt.Errorf("%w: hinted list is %d bytes, at most %d allowed", ErrTooLarge, len(b.List), MaxListSize)
	}
	return nil
}

// Encode returns the body's encoding; it copies List.
func (b HintBody) Encode() ([]byte, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	out := appendArrayLen(make([]byte, 0, 1+2+len(b.Owner)+5+len(b.List)), 2)
	out = appendStr(out, b.Owner)
	return appendBin(out, b.List), nil
}

// DecodeHintBody decodes a HintedStore or Handoff body. List aliases p.
func DecodeHintBody(p []byte) (HintBody, error) {
	r, err := bodyReader("hint body", p, MaxHintBodySize)
	if err != nil {
		return HintBody{}, err
	}
	r.fixedArray("hint body", 2)
	b := HintBody{Owner: r.str("owner server ID", MaxServerIDLen), List: r.bin("hinted list", MaxListSize)}
	if err := finish(&r, "hint body", b.check); err != nil {
		return HintBody{}, err
	}
	return b, nil
}

// StoreReplyBody is the body a StoreReply may carry: [created uint].
// Created (1) says the server held nothing of the list before this store:
// the store made a new list there. A server sends it only then; an empty
// body means the list was held before (or the server does not report it),
// and [0] means the same.
type StoreReplyBody struct {
	Created bool
}

// Encode returns the body's encoding.
func (b StoreReplyBody) Encode() ([]byte, error) {
	created := uint64(0)
	if b.Created {
		created = 1
	}
	return appendUint(appendArrayLen(make([]byte, 0, 2), 1), created), nil
}

// DecodeStoreReplyBody decodes a StoreReply's body; an empty body is the
// zero value.
func DecodeStoreReplyBody(p []byte) (StoreReplyBody, error) {
	if len(p) == 0 {
		return StoreReplyBody{}, nil
	}
	r, err := bodyReader("store reply body", p, MaxControlBodySize)
	if err != nil {
		return StoreReplyBody{}, err
	}
	r.fixedArray("store reply body", 1)
	created := r.uint("created")
	if r.err == nil && created > 1 {
		r.fail(ErrMalformed, "created = %d, want 0 or 1", created)
	}
	if err := finish(&r, "store reply body", func() error { return nil }); err != nil {
		return StoreReplyBody{}, err
	}
	return StoreReplyBody{Created: created == 1}, nil
}

// PullBody is the body a Pull, and a Fetch made for it, may carry: [known
// uint]. Known is the crdt.StateHash of the canonical encoding of the list
// state the client holds: when the merged state the proxy would send
// hashes to Known, the proxy answers Unchanged instead of a PullReply, and
// a server whose replica hashes to Known answers the Fetch Unchanged
// instead of a FetchReply. A Pull or Fetch without a body asks for the
// state whatever the client holds.
type PullBody struct {
	Known uint64
}

// Encode returns the body's encoding.
func (b PullBody) Encode() ([]byte, error) {
	return appendUint(appendArrayLen(make([]byte, 0, 10), 1), b.Known), nil
}

// DecodePullBody decodes a Pull's body. An empty body is not a PullBody:
// look at the body's length first (an empty one asks for the state).
func DecodePullBody(p []byte) (PullBody, error) {
	r, err := bodyReader("pull body", p, MaxControlBodySize)
	if err != nil {
		return PullBody{}, err
	}
	r.fixedArray("pull body", 1)
	b := PullBody{Known: r.uint("known state hash")}
	if err := finish(&r, "pull body", func() error { return nil }); err != nil {
		return PullBody{}, err
	}
	return b, nil
}

// bodyReader checks a body's size before anything in it is read.
func bodyReader(what string, p []byte, limit int) (reader, error) {
	if len(p) > limit {
		return reader{}, fmt.Errorf("%w: %s is %d bytes, at most %d allowed", ErrTooLarge, what, len(p), limit)
	}
	return reader{b: p}, nil
}

// finish checks for trailing bytes, then the decoded value's own rules.
func finish(r *reader, what string, check func() error) error {
	r.end(what)
	if r.err != nil {
		return r.err
	}
	return check()
}
