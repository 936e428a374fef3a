package antientropy

import "time"

// Stats counts what a Coordinator has done since it was created.
type Stats struct {
	// Rounds is how many rounds ended, whether they completed or not.
	Rounds uint64 `json:"rounds"`
	// RangesSkipped counts ranges not compared because an owner was not
	// usable when their turn came.
	RangesSkipped uint64 `json:"ranges_skipped"`
	// RangesCompared counts ranges whose owners all answered the digest;
	// RangesInSync those of them whose digests were equal.
	RangesCompared uint64 `json:"ranges_compared"`
	RangesInSync   uint64 `json:"ranges_in_sync"`
	// ListsRepaired counts lists whose merged state was acknowledged by
	// every owner it was stored on.
	ListsRepaired uint64 `json:"lists_repaired"`
	// BytesSent and BytesReceived count the anti-entropy messages' bytes
	// (header and body frames, without the routing identity).
	BytesSent     uint64 `json:"bytes_sent"`
	BytesReceived uint64 `json:"bytes_received"`
	// LastRound is how long the last round took (nanoseconds in JSON),
	// LastRoundAt when it ended.
	LastRound   time.Duration `json:"last_round_ns"`
	LastRoundAt time.Time     `json:"last_round_at"`
}
