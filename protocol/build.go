package protocol

import (
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// This file holds one constructor per message type. Each fills in Version,
// Type and the fields its type uses; list bodies are taken as they are (not
// copied, not checked beyond what Validate does) and typed bodies are
// encoded, which fails only for a body that breaks its rules.

func newMessage(t Type, reqID uint64, list uuid.UUID, epoch uint64, body []byte) Message {
	if len(body) == 0 {
		body = nil
	}
	return Message{Header: Header{Version: Version, Type: t, RequestID: reqID, ListID: list, Epoch: epoch}, Body: body}
}

func encoded(t Type, reqID uint64, epoch uint64, body []byte, err error) (Message, error) {
	if err != nil {
		return Message{}, err
	}
	return newMessage(t, reqID, uuid.Nil, epoch, body), nil
}

// NewHello returns a client's Hello (also its ping).
func NewHello(reqID uint64) Message { return newMessage(TypeHello, reqID, uuid.Nil, 0, nil) }

// NewWelcome returns the proxy's answer to a Hello.
func NewWelcome(reqID, epoch uint64, b WelcomeBody) (Message, error) {
	body, err := b.Encode()
	return encoded(TypeWelcome, reqID, epoch, body, err)
}

// NewPush returns a client's Push of a list state or delta.
func NewPush(reqID uint64, list uuid.UUID, state []byte) Message {
	return newMessage(TypePush, reqID, list, 0, state)
}

// NewPull returns a client's Pull of a list.
func NewPull(reqID uint64, list uuid.UUID) Message {
	return newMessage(TypePull, reqID, list, 0, nil)
}

// NewPullKnown returns a client's Pull of a list it holds in the state
// whose crdt.StateHash is known: answered by Unchanged if the cluster's merged
// state is that one, else as a Pull without a body.
func NewPullKnown(reqID uint64, list uuid.UUID, known uint64) Message {
	body, _ := PullBody{Known: known}.Encode() // cannot fail
	return newMessage(TypePull, reqID, list, 0, body)
}

// NewUnchanged returns the proxy's answer to a Pull whose Known is the
// hash of the merged state: the client has it already.
func NewUnchanged(reqID uint64, list uuid.UUID) Message {
	return newMessage(TypeUnchanged, reqID, list, 0, nil)
}

// NewPullReply returns the proxy's answer to a Pull; a nil state means no
// replica has the list.
func NewPullReply(reqID uint64, list uuid.UUID, state []byte) Message {
	return newMessage(TypePullReply, reqID, list, 0, state)
}

// NewSubscribe returns a client's Subscribe to lists.
func NewSubscribe(reqID uint64, lists ...uuid.UUID) (Message, error) {
	body, err := SubscribeBody{Lists: lists}.Encode()
	return encoded(TypeSubscribe, reqID, 0, body, err)
}

// NewUnsubscribe returns a client's Unsubscribe from lists.
func NewUnsubscribe(reqID uint64, lists ...uuid.UUID) (Message, error) {
	body, err := SubscribeBody{Lists: lists}.Encode()
	return encoded(TypeUnsubscribe, reqID, 0, body, err)
}

// NewLiveUpdate returns a LiveUpdate for the proxy's PUB socket; seal it
// with the list's LiveKey and send what Seal returns.
func NewLiveUpdate(list uuid.UUID, state []byte) Message {
	return newMessage(TypeLiveUpdate, 0, list, 0, state)
}

// NewOK returns a success reply; list may be uuid.Nil or the request's list.
func NewOK(reqID uint64, list uuid.UUID) Message {
	return newMessage(TypeOK, reqID, list, 0, nil)
}

// NewError returns an Error reply. It never fails: a zero code becomes
// CodeInternal, and msg is made valid UTF-8 and cut to MaxErrorMessageLen
// bytes on a rune boundary.
func NewError(reqID uint64, code ErrorCode, msg string) Message {
	if code == 0 {
		code = CodeInternal
	}
	msg = strings.ToValidUTF8(msg, "\uFFFD")
	if len(msg) > MaxErrorMessageLen {
		cut := MaxErrorMessageLen
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut]
	}
	body, _ := ErrorBody{Code: code, Message: msg}.Encode() // valid by construction
	return newMessage(TypeError, reqID, uuid.Nil, 0, body)
}

// NewErrorFrom returns the Error reply that reports err: its code is
// CodeOf(err) and its message err's text (or, for a relayed ErrorBody, its
// message).
func NewErrorFrom(reqID uint64, err error) Message {
	if remote, ok := err.(ErrorBody); ok {
		return NewError(reqID, remote.Code, remote.Message)
	}
	if err == nil {
		return NewError(reqID, CodeInternal, "unknown error")
	}
	return NewError(reqID, CodeOf(err), err.Error())
}

// Err returns the failure an Error message reports, as an ErrorBody, or the
// error decoding its body; nil for any other type.
func (m Message) Err() error {
	if m.Type != TypeError {
		return nil
	}
	b, err := DecodeErrorBody(m.Body)
	if err != nil {
		return err
	}
	return b
}

// NewServerHello returns a server's greeting; epoch is the latest ring epoch
// the server has adopted (0 if none).
func NewServerHello(reqID, epoch uint64, serverID string) (Message, error) {
	body, err := ServerHelloBody{ServerID: serverID}.Encode()
	return encoded(TypeServerHello, reqID, epoch, body, err)
}

// NewServerWelcome returns the proxy's acceptance of a server.
func NewServerWelcome(reqID, epoch uint64) Message {
	return newMessage(TypeServerWelcome, reqID, uuid.Nil, epoch, nil)
}

// NewHeartbeat returns a Heartbeat carrying the sender's current epoch.
func NewHeartbeat(epoch uint64) Message {
	return newMessage(TypeHeartbeat, 0, uuid.Nil, epoch, nil)
}

// NewStore returns the proxy's Store of a list state on a replica.
func NewStore(reqID, epoch uint64, list uuid.UUID, state []byte) Message {
	return newMessage(TypeStore, reqID, list, epoch, state)
}

// NewStoreExisting returns the proxy's Store of a list state on a replica
// that must already hold the list.
func NewStoreExisting(reqID, epoch uint64, list uuid.UUID, state []byte) Message {
	return newMessage(TypeStoreExisting, reqID, list, epoch, state)
}

// NewStoreReply returns a server's acknowledgement of a Store, HintedStore
// or StoreExisting into a list it held (or the proxy's of a Handoff).
func NewStoreReply(reqID uint64, list uuid.UUID) Message {
	return newMessage(TypeStoreReply, reqID, list, 0, nil)
}

// NewStoreCreated returns a server's acknowledgement of a Store or
// HintedStore of a list it held nothing of before: a StoreReply whose body
// says so.
func NewStoreCreated(reqID uint64, list uuid.UUID) Message {
	body, _ := StoreReplyBody{Created: true}.Encode() // cannot fail
	return newMessage(TypeStoreReply, reqID, list, 0, body)
}

// NewFetch returns the proxy's Fetch of a server's replica.
func NewFetch(reqID, epoch uint64, list uuid.UUID) Message {
	return newMessage(TypeFetch, reqID, list, epoch, nil)
}

// NewFetchKnown returns the proxy's Fetch of a server's replica on behalf
// of a client that holds the state whose crdt.StateHash is known: answered
// by Unchanged if the replica is that state, else as a Fetch without a
// body.
func NewFetchKnown(reqID, epoch uint64, list uuid.UUID, known uint64) Message {
	body, _ := PullBody{Known: known}.Encode() // cannot fail
	return newMessage(TypeFetch, reqID, list, epoch, body)
}

// NewFetchReply returns a server's answer to a Fetch; a nil state means the
// server holds nothing for the list.
func NewFetchReply(reqID uint64, list uuid.UUID, state []byte) Message {
	return newMessage(TypeFetchReply, reqID, list, 0, state)
}

// NewHintedStore returns the proxy's sloppy-quorum write of a list state to a
// fallback server, on behalf of owner.
func NewHintedStore(reqID, epoch uint64, list uuid.UUID, owner string, state []byte) (Message, error) {
	return newHint(TypeHintedStore, reqID, epoch, list, owner, state)
}

// NewHandoff returns a fallback server's delivery of a hinted list state to
// its owner, through the proxy.
func NewHandoff(reqID, epoch uint64, list uuid.UUID, owner string, state []byte) (Message, error) {
	return newHint(TypeHandoff, reqID, epoch, list, owner, state)
}

func newHint(t Type, reqID, epoch uint64, list uuid.UUID, owner string, state []byte) (Message, error) {
	body, err := HintBody{Owner: owner, List: state}.Encode()
	if err != nil {
		return Message{}, err
	}
	return newMessage(t, reqID, list, epoch, body), nil
}

// NewEpochAnnounce returns the proxy's announcement of a ring epoch; the
// header's Epoch is b.Epoch. Use request ID 0 when no answer is wanted.
func NewEpochAnnounce(reqID uint64, b EpochBody) (Message, error) {
	body, err := b.Encode()
	return encoded(TypeEpochAnnounce, reqID, b.Epoch, body, err)
}
