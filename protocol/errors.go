package protocol

import (
	"errors"
	"strconv"

	"shoplist/crdt"
)

// Sentinel errors returned by the decoders, wrapped with detail; test them
// with errors.Is and map them to a reply with CodeOf.
var (
	ErrMalformed          = errors.New("protocol: malformed message")
	ErrUnsupportedVersion = errors.New("protocol: unsupported version")
	ErrUnknownType        = errors.New("protocol: unknown message type")
	ErrTooLarge           = errors.New("protocol: message too large")
	ErrInvalidID          = errors.New("protocol: invalid ID")
	// ErrNotAuthentic: a sealed live update did not open with the key of
	// the list its topic names (another list's, altered, or forged).
	ErrNotAuthentic = errors.New("protocol: live update not authentic")
)

// ErrorCode is the reason carried by an Error reply. Values are part of the
// wire format and never reused; zero is not a valid code.
type ErrorCode uint8

// Error codes.
const (
	// CodeBadRequest: the message broke a rule of this protocol (a
	// malformed frame, a missing or invalid ID, a type not accepted on the
	// socket it arrived on).
	CodeBadRequest ErrorCode = 1
	// CodeUnsupportedVersion: the header's version is not Version.
	CodeUnsupportedVersion ErrorCode = 2
	// CodeUnknownType: the header's type is unknown to the receiver.
	CodeUnknownType ErrorCode = 3
	// CodeTooLarge: a frame, string or count exceeded its limit.
	CodeTooLarge ErrorCode = 4
	// CodeInvalidList: a list body failed crdt.Decode, or its ID is not
	// the header's list ID.
	CodeInvalidList ErrorCode = 5
	// CodeQuorumFailed: fewer than W replicas acknowledged a write, or
	// fewer than R answered a read, before the deadline.
	CodeQuorumFailed ErrorCode = 6
	// CodeNotFound: a Handoff names an owner that is not a ring member at
	// the proxy's epoch; re-route the hint to the list's current owners.
	// (A list that does not exist is not an error: PullReply and
	// FetchReply say so with an empty body.)
	CodeNotFound ErrorCode = 7
	// CodeUnavailable: the receiver cannot serve now (no servers, shutting
	// down, overloaded); retry later or fail over.
	CodeUnavailable ErrorCode = 8
	// CodeClockSkew: the list carries stamps too far ahead of the
	// receiver's clock; the sender's clock is wrong.
	CodeClockSkew ErrorCode = 9
	// CodeStaleEpoch: the request was routed under an older ring epoch
	// than the receiver's; refresh the ring and retry.
	CodeStaleEpoch ErrorCode = 10
	// CodeInternal: anything else went wrong inside the receiver.
	CodeInternal ErrorCode = 11
	// CodeNotWelcomed: a proxy does not know the storage server that sent
	// the request (the proxy restarted, say): the server says ServerHello
	// again at once, and retries once welcomed.
	CodeNotWelcomed ErrorCode = 12
	// CodeNotAdmitted: a proxy refuses a storage server's hello or request
	// because the CURVE key of its connection is not admitted under the
	// server ID it claims (bound to another ID, or revoked). Saying hello
	// again does not help until an operator admits the key.
	CodeNotAdmitted ErrorCode = 13
	// CodeNewListLimit: the proxy refuses a push that would create a list
	// the cluster does not hold, because the client has created its quota
	// of new lists for now (the proxy's --new-lists-per-minute). Pushes to
	// lists the cluster holds still go through; retry later.
	CodeNewListLimit ErrorCode = 14
)

var codeNames = [...]string{
	CodeBadRequest:         "BadRequest",
	CodeUnsupportedVersion: "UnsupportedVersion",
	CodeUnknownType:        "UnknownType",
	CodeTooLarge:           "TooLarge",
	CodeInvalidList:        "InvalidList",
	CodeQuorumFailed:       "QuorumFailed",
	CodeNotFound:           "NotFound",
	CodeUnavailable:        "Unavailable",
	CodeClockSkew:          "ClockSkew",
	CodeStaleEpoch:         "StaleEpoch",
	CodeInternal:           "Internal",
	CodeNotWelcomed:        "NotWelcomed",
	CodeNotAdmitted:        "NotAdmitted",
	CodeNewListLimit:       "NewListLimit",
}

// Known reports whether c is an error code of this protocol version.
// Receivers accept unknown nonzero codes and treat them as CodeInternal.
func (c ErrorCode) Known() bool { return int(c) < len(codeNames) && codeNames[c] != "" }

// String returns the code's name, such as "QuorumFailed", or "ErrorCode(n)".
func (c ErrorCode) String() string {
	if c.Known() {
		return codeNames[c]
	}
	return "ErrorCode(" + strconv.Itoa(int(c)) + ")"
}

// CodeOf maps an error to the code of the Error reply that reports it: a
// relayed ErrorBody keeps its code, this package's sentinels and crdt's
// decoding errors map to their codes, and anything else is CodeInternal.
// CodeOf(nil) is 0.
func CodeOf(err error) ErrorCode {
	var remote ErrorBody
	switch {
	case err == nil:
		return 0
	case errors.As(err, &remote) && remote.Code != 0:
		return remote.Code
	case errors.Is(err, ErrUnsupportedVersion):
		return CodeUnsupportedVersion
	case errors.Is(err, ErrUnknownType):
		return CodeUnknownType
	case errors.Is(err, ErrTooLarge), errors.Is(err, crdt.ErrTooLarge):
		return CodeTooLarge
	case errors.Is(err, crdt.ErrMalformed), errors.Is(err, crdt.ErrIDMismatch):
		return CodeInvalidList
	case errors.Is(err, ErrMalformed), errors.Is(err, ErrInvalidID), errors.Is(err, ErrNotAuthentic):
		return CodeBadRequest
	}
	return CodeInternal
}
