package server

import (
	"fmt"
	"sync/atomic"

	"shoplist/internal/bytesize"
	"shoplist/protocol"
)

// The server's memory budget, in bytes. The request queue and the reply
// queue used to be bounded in messages only (Workers × queuePerWorker
// requests, each up to a 4 MiB list; replies and Handoffs without bound
// but the requests behind them), so a few hundred large Stores or Fetches
// could hold gigabytes. Now every message the server holds on its way
// through counts against Config.MemoryBudget, from when it is taken until
// it leaves:
//
//   - a Store, StoreExisting, HintedStore, Fetch or Digest from when the
//     loop queues it for the workers until a worker has served it
//     (refused at once with Unavailable if it does not fit: the proxy
//     counts that replica as failed, and the client retries);
//   - a worker's reply from when it is queued for the loop until the loop
//     has handed it to ZeroMQ or dropped it (a reply that does not fit is
//     replaced by an Unavailable error, which does: the read it answers
//     has been done, but its bytes are not kept);
//   - a Handoff from when the handoff goroutine has read its list until
//     the loop has handed it to ZeroMQ (one that does not fit ends the
//     round: the next round tries again).
//
// Each message counts its body plus messageOverhead, for its header and
// the structures around it. The budget does not cover the store (Pebble's
// caches and memtables, the cache of encodings, each bounded by its own
// option), nor what ZeroMQ queues toward a proxy once the loop has sent
// it: at most the socket's high-water mark of messages (1,000) per proxy,
// and a proxy that stops reading is given up after Liveness silent
// intervals, which closes the socket and frees its queue.

// DefaultMemoryBudget is the bytes of requests and replies a server holds
// at once when Config.MemoryBudget is zero: 64 of the largest lists.
const DefaultMemoryBudget = 256 << 20

// MinMemoryBudget is the smallest budget a server accepts: room for a few
// of the largest messages at once, so that one of them always fits when
// nothing else is held.
const MinMemoryBudget = 4 * (protocol.MaxHintBodySize + messageOverhead)

// messageOverhead is what a message costs beyond its body: the header, the
// Message and the queue's entry around it.
const messageOverhead = 256

// memBudget counts the bytes of requests and replies the server holds. The
// loop, the workers and the handoff goroutine take and release bytes
// concurrently; used is only ever changed atomically.
type memBudget struct {
	limit   int64
	used    atomic.Int64  // bytes taken and not yet released
	refused atomic.Uint64 // takes refused, for Stats
}

// cost is what holding m counts against the budget.
func cost(m protocol.Message) int64 { return int64(len(m.Body)) + messageOverhead }

// take counts n more bytes if they fit under the limit, and reports
// whether they did.
func (b *memBudget) take(n int64) bool {
	for {
		used := b.used.Load()
		if used+n > b.limit {
			b.refused.Add(1)
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// force counts n more bytes whether or not they fit: for the small Error
// that replaces what did not.
func (b *memBudget) force(n int64) { b.used.Add(n) }

// release gives back n bytes taken or forced.
func (b *memBudget) release(n int64) { b.used.Add(-n) }

// refusal is the Error answering request m when the budget has no room for
// what it needs.
func (b *memBudget) refusal(m protocol.Message, need int64) protocol.Message {
	reply := protocol.NewError(m.RequestID, protocol.CodeUnavailable, fmt.Sprintf(
		"server memory budget reached: %s held of %s, %s more needed; retry later",
		bytesize.Human(b.used.Load()), bytesize.Human(b.limit), bytesize.Human(need)))
	reply.ListID = m.ListID
	return reply
}
