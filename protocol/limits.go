package protocol

import (
	"time"

	"shoplist/crdt"
)

// Version is the protocol version this package speaks: the first field of
// every header. A receiver rejects any other version with
// CodeUnsupportedVersion.
const Version uint8 = 1

// Default endpoints. The proxy binds them (on all interfaces or as
// configured); clients connect to the client endpoint and learn the PUB
// endpoint from Welcome, never from configuration.
const (
	DefaultClientEndpoint  = "tcp://127.0.0.1:5555" // proxy ROUTER for clients
	DefaultPubEndpoint     = "tcp://127.0.0.1:5556" // proxy PUB for live updates
	DefaultBackendEndpoint = "tcp://127.0.0.1:5557" // proxy ROUTER for servers
)

// Heartbeat timing (the Paranoid Pirate pattern). Any message from a peer
// proves it alive; a peer that has sent nothing for HeartbeatInterval sends a
// Heartbeat, and one silent for HeartbeatLiveness intervals is down.
const (
	HeartbeatInterval = time.Second
	HeartbeatLiveness = 3
)

// Frame and body size limits. Receivers check a frame's length against its
// limit before decoding anything in it, so no message makes a receiver
// allocate more than a small constant beyond the frames it already holds.
const (
	// MaxHeaderSize is the largest header frame accepted. A header encoded
	// in shortest form is at most 41 bytes; the slack admits integers
	// written in wider msgpack forms.
	MaxHeaderSize = 64

	// MaxListSize is the largest list body (an encoded crdt list): the
	// same bound as crdt.MaxEncodedSize, so anything a replica can encode
	// fits in a message.
	MaxListSize = crdt.MaxEncodedSize

	// MaxHintBodySize is the largest HintedStore or Handoff body: a list
	// body plus the owner's server ID and the msgpack framing around both.
	MaxHintBodySize = MaxListSize + 1 + (5 + MaxServerIDLen) + 5

	// MaxControlBodySize is the largest typed body of any other type
	// (Welcome, Subscribe, Error, ServerHello, EpochAnnounce). Every such
	// body within its count and length limits fits.
	MaxControlBodySize = 64 << 10
)

// Field limits inside typed bodies.
const (
	MaxServerIDLen     = 64   // bytes in a server ID
	MaxErrorMessageLen = 512  // bytes of UTF-8 in an error message
	MaxEndpointLen     = 256  // bytes in an endpoint address
	MaxEndpoints       = 16   // client endpoints listed in a Welcome
	MaxSubscribeLists  = 256  // list IDs in one Subscribe or Unsubscribe
	MaxMembers         = 256  // servers in an EpochAnnounce
	MaxVNodes          = 1024 // virtual nodes per server in an epoch
	MaxReplication     = 16   // largest N (replicas per list) in an epoch
	MaxDigestBuckets   = 256  // buckets of one Digest range
	MaxDigestEntries   = 1024 // list entries in one DigestReply
)

// Routing limits. The protocol has a single ROUTER hop, so a message read
// from a ROUTER socket carries exactly MaxRoutingDepth identity frames, each
// at most MaxIdentitySize bytes (ZeroMQ's own bound on a routing ID).
const (
	MaxRoutingDepth = 1
	MaxIdentitySize = 255
)
