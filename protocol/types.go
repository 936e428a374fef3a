package protocol

import "strconv"

// Type is a message type: the second field of every header.
type Type uint8

// Message types. Values are part of the wire format and never reused.
// Client types are 1-31, server types 32-63.
const (
	// TypeHello (client → proxy) greets the proxy and doubles as the
	// client's ping. Empty body; answered by Welcome.
	TypeHello Type = 1
	// TypeWelcome (proxy → client) answers Hello. Body: WelcomeBody. The
	// header's Epoch is the proxy's current ring epoch.
	TypeWelcome Type = 2
	// TypePush (client → proxy) carries a list state or delta to merge.
	// Body: list bytes. Answered by OK or Error.
	TypePush Type = 3
	// TypePull (client → proxy) asks for a list's state. Empty body, or a
	// PullBody naming the state the client holds; answered by PullReply,
	// Unchanged (only to a Pull with a body) or Error.
	TypePull Type = 4
	// TypePullReply (proxy → client) carries the list's state, or an empty
	// body when no replica read has the list.
	TypePullReply Type = 5
	// TypeSubscribe (client → proxy) declares interest in lists. Body:
	// SubscribeBody. Answered by OK or Error.
	TypeSubscribe Type = 6
	// TypeUnsubscribe (client → proxy) withdraws interest. Body:
	// SubscribeBody. Answered by OK or Error.
	TypeUnsubscribe Type = 7
	// TypeLiveUpdate (proxy PUB → clients) carries a list state or delta
	// that some client pushed. Body: list bytes. Never answered.
	TypeLiveUpdate Type = 8
	// TypeOK (any reply) reports success. Empty body.
	TypeOK Type = 9
	// TypeError (any reply) reports failure. Body: ErrorBody.
	TypeError Type = 10
	// TypeUnchanged (proxy → client) answers a Pull whose PullBody's Known
	// equals the crdt.StateHash of the merged state the proxy would have sent in
	// a PullReply: the client holds it already; (server → proxy) answers a
	// Fetch whose Known is the hash of the server's replica. Empty body;
	// carries the list ID and request ID.
	TypeUnchanged Type = 11

	// TypeServerHello (server → proxy) registers a storage server. Body:
	// ServerHelloBody; the header's Epoch is the latest ring epoch the
	// server has adopted. Answered by ServerWelcome or Error.
	TypeServerHello Type = 32
	// TypeServerWelcome (proxy → server) accepts a server. Empty body; the
	// header's Epoch is the proxy's current ring epoch.
	TypeServerWelcome Type = 33
	// TypeHeartbeat (proxy ↔ server) proves liveness. Empty body; never
	// answered.
	TypeHeartbeat Type = 34
	// TypeStore (proxy → server) asks the server to merge a list state
	// into its replica. Body: list bytes. Answered by StoreReply or Error.
	TypeStore Type = 35
	// TypeStoreReply (server → proxy) acknowledges a durable Store,
	// HintedStore or StoreExisting; (proxy → server) a delivered Handoff.
	// Empty body, or a StoreReplyBody saying the server held nothing of the
	// list before (a new list).
	TypeStoreReply Type = 36
	// TypeFetch (proxy → server) asks for a server's replica of a list.
	// Empty body, or a PullBody naming the state the asking client holds;
	// answered by FetchReply, Unchanged (only to a Fetch with a body) or
	// Error.
	TypeFetch Type = 37
	// TypeFetchReply (server → proxy) carries the replica, or an empty body
	// when the server holds no state for the list.
	TypeFetchReply Type = 38
	// TypeHintedStore (proxy → fallback server) is a sloppy-quorum write:
	// keep this state for its intended owner until it can be handed off.
	// Body: HintBody. Answered by StoreReply or Error.
	TypeHintedStore Type = 39
	// TypeHandoff (fallback server → proxy) delivers a hinted state to its
	// owner through the proxy. Body: HintBody. Answered by StoreReply once
	// the owner has stored it, or Error.
	TypeHandoff Type = 40
	// TypeEpochAnnounce (proxy → server) announces a ring epoch. Body:
	// EpochBody. With a nonzero request ID it is answered by OK once the
	// server has adopted the epoch, or Error (StaleEpoch).
	TypeEpochAnnounce Type = 41
	// TypeServerReport (server → proxy) tells the proxy what the server
	// stores, once per heartbeat interval. Body: ServerReportBody. Never
	// answered; it proves liveness like a Heartbeat.
	TypeServerReport Type = 42
	// TypeDigest (proxy → server) asks for the anti-entropy digest of a
	// ring range. Body: DigestBody. Answered by DigestReply or Error.
	TypeDigest Type = 43
	// TypeDigestReply (server → proxy) answers a Digest. Body:
	// DigestReplyBody.
	TypeDigestReply Type = 44
	// TypeStoreExisting (proxy → server) is a Store into a list the server
	// already holds: a server that holds nothing of the list stores nothing
	// and answers Error NotFound. The proxy sends it for a client past its
	// cap on new lists. Body: list bytes. Answered by StoreReply or Error.
	TypeStoreExisting Type = 45
	// TypeBatch (proxy ↔ server) carries several messages in one, so that
	// what one side has for the other in a turn of its loop costs one
	// ZeroMQ message: Stores and Fetches toward a server, their answers
	// back. Body: the messages, each as its header frame and its body frame
	// with their lengths (batch.go). Each is checked and handled as if it
	// had come alone; a Batch is never inside a Batch.
	TypeBatch Type = 46
)

// listRule says whether a type's header carries a list ID.
type listRule uint8

const (
	listNone     listRule = iota // ListID must be absent (nil)
	listRequired                 // ListID must be a version 4 UUID
	listOptional                 // either
)

// bodyRule says what a type's body frame holds.
type bodyRule uint8

const (
	bodyEmpty          bodyRule = iota // zero bytes
	bodyList                           // 1..MaxListSize bytes of list
	bodyListOrEmpty                    // a list, or zero bytes for not found
	bodyControl                        // 1..MaxControlBodySize bytes, typed
	bodyControlOrEmpty                 // a typed body, or zero bytes
	bodyHint                           // 1..MaxHintBodySize bytes, HintBody
	bodyBatch                          // 1..MaxBatchBodySize bytes, messages (batch.go)
)

// reqRule says which request IDs a type may carry.
type reqRule uint8

const (
	reqNonZero reqRule = iota // requests and their replies
	reqZero                   // notifications: nobody answers them
	reqAny                    // Error (0 when the request was unreadable), EpochAnnounce
)

type spec struct {
	name string
	list listRule
	body bodyRule
	req  reqRule
}

var specs = [...]spec{
	TypeHello:         {"Hello", listNone, bodyEmpty, reqNonZero},
	TypeWelcome:       {"Welcome", listNone, bodyControl, reqNonZero},
	TypePush:          {"Push", listRequired, bodyList, reqNonZero},
	TypePull:          {"Pull", listRequired, bodyControlOrEmpty, reqNonZero},
	TypePullReply:     {"PullReply", listRequired, bodyListOrEmpty, reqNonZero},
	TypeSubscribe:     {"Subscribe", listNone, bodyControl, reqNonZero},
	TypeUnsubscribe:   {"Unsubscribe", listNone, bodyControl, reqNonZero},
	TypeLiveUpdate:    {"LiveUpdate", listRequired, bodyList, reqZero},
	TypeOK:            {"OK", listOptional, bodyEmpty, reqNonZero},
	TypeError:         {"Error", listOptional, bodyControl, reqAny},
	TypeUnchanged:     {"Unchanged", listRequired, bodyEmpty, reqNonZero},
	TypeServerHello:   {"ServerHello", listNone, bodyControl, reqNonZero},
	TypeServerWelcome: {"ServerWelcome", listNone, bodyEmpty, reqNonZero},
	TypeHeartbeat:     {"Heartbeat", listNone, bodyEmpty, reqZero},
	TypeStore:         {"Store", listRequired, bodyList, reqNonZero},
	TypeStoreReply:    {"StoreReply", listRequired, bodyControlOrEmpty, reqNonZero},
	TypeFetch:         {"Fetch", listRequired, bodyControlOrEmpty, reqNonZero},
	TypeFetchReply:    {"FetchReply", listRequired, bodyListOrEmpty, reqNonZero},
	TypeHintedStore:   {"HintedStore", listRequired, bodyHint, reqNonZero},
	TypeHandoff:       {"Handoff", listRequired, bodyHint, reqNonZero},
	TypeEpochAnnounce: {"EpochAnnounce", listNone, bodyControl, reqAny},
	TypeServerReport:  {"ServerReport", listNone, bodyControl, reqZero},
	TypeDigest:        {"Digest", listNone, bodyControl, reqNonZero},
	TypeDigestReply:   {"DigestReply", listNone, bodyControl, reqNonZero},
	TypeStoreExisting: {"StoreExisting", listRequired, bodyList, reqNonZero},
	TypeBatch:         {"Batch", listNone, bodyBatch, reqZero},
}

// lookup returns the rules of t and whether t is a known type.
func lookup(t Type) (spec, bool) {
	if int(t) >= len(specs) || specs[t].name == "" {
		return spec{}, false
	}
	return specs[t], true
}

// Known reports whether t is a message type of this protocol version.
func (t Type) Known() bool {
	_, ok := lookup(t)
	return ok
}

// String returns the type's name, such as "Push", or "Type(n)" when unknown.
func (t Type) String() string {
	if s, ok := lookup(t); ok {
		return s.name
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Types returns every known message type in ascending order.
func Types() []Type {
	var out []Type
	for i := range specs {
		if specs[i].name != "" {
			out = append(out, Type(i))
		}
	}
	return out
}
