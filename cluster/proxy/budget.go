package proxy

import (
	"fmt"
	"time"

	"shoplist/internal/bytesize"
	"shoplist/protocol"
)

// The memory budget: the proxy bounds its memory in bytes, per client
// connection and in total, where it used to bound only messages (10,000
// replies queued per client, MaxInFlight requests). A client that pulled a
// 4 MiB list over and over and never read the replies made ZeroMQ queue
// each reply toward it, and the proxy grew by gigabytes.
//
// What is counted. Every byte the proxy holds or has handed to ZeroMQ on
// someone's behalf belongs to an account: a client connection's, or one of
// the proxy's own duties (read repair, handoff, anti-entropy).
//
//   - Held: what the proxy itself keeps for an op, from admission to the
//     op's end: a push's body, a pull's reservation and then the replicas'
//     answers as they arrive (reserve, charge and settle in accounting.go).
//   - Queued toward a server: each request sent to a server (a Store's
//     copy of the body, a Fetch), from the send until a reply from that
//     server to it or to a later request proves it has left the proxy's
//     queue: ZeroMQ delivers a connection's messages in order
//     (serverQueue in queues.go).
//   - Queued toward a client: ZeroMQ's queue toward a client cannot be
//     observed, but it can be bounded. The client ROUTER has a small
//     per-peer high-water mark (clientHWM messages) and ROUTER_MANDATORY,
//     and every send is non-blocking: a send to a full queue fails at once
//     (the reply is dropped; the client retries), so the queue holds at
//     most the last clientHWM messages sent successfully, and the engine
//     one more it is writing. The sum of the sizes of the last clientHWM+1
//     messages sent to a client (clientWindow in queues.go) is therefore a
//     true upper bound of what ZeroMQ holds for it, whether it reads or
//     not. Beyond that are the kernel's socket buffers, outside the
//     process and set per connection (sndBuf in socketbounds.go).
//
// Admission. A Push or Pull is admitted only if its expected bytes fit
// (expectPush, expectPull): its account's bytes plus them must stay within
// perClient, and the total within limit; and once the total is within
// reserve of limit, only a request whose account stays light (within
// light bytes) is admitted. So the clients holding much (a slow reader, a
// flood) are refused first and a normal client, whose account holds a few
// replies of kilobytes, is still served from the reserve: a fair share
// without tracking shares. A refusal is the Error Unavailable ("proxy
// memory budget reached ...; retry later"). Bytes that arrive beyond a
// pull's reservation (a list larger than expected) are held only if they
// fit the same rules; otherwise the answer is dropped and counts as that
// replica's failure, and a pull left short of R answers this way is
// refused Unavailable too. A reply to a client that would pass its
// account's cap is replaced by that Error. The duties have no per-account
// cap and never use the reserve.
//
// The total counted is limit: half of what the budget (Config.MemoryBudget)
// leaves beside the process's own footprint (baseFootprint: the binary,
// the runtime, Raft, ZeroMQ's threads; about 50 MiB measured idle). The
// other half is for what is not counted: garbage the Go collector has not
// yet reclaimed (proxynode sets the runtime's soft memory limit to half the
// budget, so that the Go heap, counted bytes and garbage together, stays
// there, and what is counted outside it, in ZeroMQ, fits the rest), copies
// in flight between Go and ZeroMQ, and what is bounded otherwise: ZeroMQ's
// inbound queues (clientRcvHWM messages per client, drained by the loop
// every turn), the PUB's queues (pubHWM messages of at most maxLiveBody
// per subscriber: socketbounds.go), and ZeroMQ's own per-connection state.
//
// Forgetting a client. A client's account outlives its silence only while
// its queue may hold something. A client that has sent nothing for
// forgetAfter is sent a Heartbeat (a notification clients drop): the send
// fails with EHOSTUNREACH once ZeroMQ has dropped the connection, and only
// then is the account forgotten. A connection that is gone is dropped by
// ZeroMQ: a closed one at once; a dead peer by the ZMTP heartbeat
// (zmtpHeartbeat, zmtpTimeout); one whose reader stopped while a message
// was being written (the ZMTP ping waits for it) by TCP_MAXRT
// (tcpMaxRetransmit), under which Linux aborts a connection that has
// answered zero-window probes for that long. Silence alone proves
// nothing: a peer that keeps its connection open and reads a few bytes a
// minute keeps its queue, and so keeps its account.

// Budget defaults and bounds.
const (
	// DefaultMemoryBudget is Config.MemoryBudget's default.
	DefaultMemoryBudget = 512 << 20
	// MinMemoryBudget is the smallest budget accepted: the footprint, and
	// room for a pull of the largest list by one client beside the reserve.
	MinMemoryBudget = 96 << 20
	// baseFootprint is what the proxy process holds of its own, counted
	// nowhere: see limit above.
	baseFootprint = 48 << 20
	// msgOverhead is what a message costs beyond its body, in the proxy
	// and in ZeroMQ: its header and identity frames and the structures
	// around them.
	msgOverhead = 256
	// pullGuess is what a pull of a list of unknown size reserves per
	// answer: most lists are a few kilobytes, and a larger one is charged
	// as its answers arrive (and dropped if they do not fit), so a client
	// syncing a thousand lists at once is not refused for what it might
	// hold.
	pullGuess = 16 << 10
	// forgetAfter is how long a client must have been silent before the
	// proxy asks ZeroMQ whether its connection is still there. A client
	// says Hello after each second of silence, so only a client that is
	// gone, stopped or hostile is ever asked.
	forgetAfter = 10 * time.Second
	// sizesKept bounds the lists whose last size the proxy remembers, for
	// pulls' reservations.
	sizesKept = 16384
)

// account is what one client connection, or one of the proxy's duties,
// has in memory now. The loop owns it.
type account struct {
	key    string       // the client's key (clientKey); the duty's name
	held   int64        // held by its ops in the proxy: bodies, answers, reservations
	queued int64        // its requests queued toward servers, not yet answered
	window clientWindow // client: the last clientHWM+1 messages handed to ZeroMQ for it
	ops    int          // ops in progress on its behalf
	heard  time.Time    // client: its last message
	probed time.Time    // client: the last Heartbeat sent to learn whether it is still there
	user   string       // client: its connection's CURVE key, "" without CURVE
}

// bytes is everything the account holds.
func (a *account) bytes() int64 { return a.held + a.queued + a.window.sum }

// memBudget is the accounting of the proxy's memory. The loop owns it: no
// other goroutine touches it, so nothing in it is locked.
type memBudget struct {
	budget    int64 // Config.MemoryBudget, for messages
	limit     int64 // the total counted may not pass this
	perClient int64 // nor a client's account this
	reserve   int64 // the last bytes under limit, for light clients only
	light     int64 // what a client may hold and still use the reserve

	total   int64               // bytes of every account
	clients map[string]*account // client connections, by key
	repair  account             // read repairs
	handoff account             // handoffs of hinted lists
	ae      account             // anti-entropy's fetches and stores

	sizes map[[16]byte]int64 // last known encoded size of lists, for pulls (at most sizesKept)

	forgetAfter time.Duration // forgetAfter; tests shorten it

	refused, dropped, forgotten uint64 // requests refused, answers and replies dropped, clients forgotten
}

// newMemBudget divides budget into the shares above. n is the number of
// replicas, whose answers one pull holds.
func newMemBudget(budget int64, n int) *memBudget {
	limit := (budget - baseFootprint) / 2
	// A client pulling the largest list holds its N answers and its
	// reply at once.
	perClient := max(limit/4, int64(n+1)*(protocol.MaxListSize+msgOverhead))
	return &memBudget{
		budget:    budget,
		limit:     limit,
		perClient: perClient,
		reserve:   limit / 4,
		light:     perClient / 4,
		clients:   map[string]*account{},
		repair:    account{key: "read repair"},
		handoff:   account{key: "handoff"},
		ae:        account{key: "anti-entropy"},
		sizes:     map[[16]byte]int64{},

		forgetAfter: forgetAfter,
	}
}

// client returns the account of the client with key, made if new.
func (b *memBudget) client(key string) *account {
	a := b.clients[key]
	if a == nil {
		a = &account{key: key}
		b.clients[key] = a
	}
	return a
}

// isDuty reports whether a is one of the proxy's own accounts.
func (b *memBudget) isDuty(a *account) bool { return a == &b.repair || a == &b.handoff || a == &b.ae }

// fits reports whether n more bytes for a keep within the rules; why says
// which rule they break.
func (b *memBudget) fits(a *account, n int64) (ok bool, why string) {
	switch {
	case n <= 0:
		return true, ""
	case b.isDuty(a):
		if b.total+n > b.limit-b.reserve {
			return false, fmt.Sprintf("%s held in all, %s more wanted for %s", bytesize.Human(b.total), bytesize.Human(n), a.key)
		}
		return true, ""
	case a.bytes()+n > b.perClient:
		return false, fmt.Sprintf("this client holds %s, %s more would pass its share of %s", bytesize.Human(a.bytes()), bytesize.Human(n), bytesize.Human(b.perClient))
	case b.total+n > b.limit:
		return false, fmt.Sprintf("%s held in all, %s more wanted", bytesize.Human(b.total), bytesize.Human(n))
	case b.total+n > b.limit-b.reserve && a.bytes()+n > b.light:
		return false, fmt.Sprintf("%s held in all and this client holds %s: what is left is kept for clients holding less than %s", bytesize.Human(b.total), bytesize.Human(a.bytes()), bytesize.Human(b.light))
	}
	return true, ""
}

// admit decides whether a request expecting n bytes may start for a: nil,
// or the Error Unavailable that refuses it.
func (b *memBudget) admit(a *account, n int64, reqID uint64) *protocol.Message {
	ok, why := b.fits(a, n)
	if ok {
		return nil
	}
	b.refused++
	m := b.refusal(reqID, why)
	return &m
}

// refusal is the Error that refuses a request for lack of memory.
func (b *memBudget) refusal(reqID uint64, why string) protocol.Message {
	return protocol.NewError(reqID, protocol.CodeUnavailable, fmt.Sprintf(
		"proxy memory budget reached (%s; budget %s); retry later", why, bytesize.Human(b.budget)))
}

// hold counts n bytes held for a (negative: released).
func (b *memBudget) hold(a *account, n int64) {
	a.held += n
	b.total += n
}

// queue counts n bytes queued toward a server for a (negative: answered).
func (b *memBudget) queue(a *account, n int64) {
	a.queued += n
	b.total += n
}

// sent counts a message of n bytes handed to ZeroMQ for client a: it
// enters a's window and pushes out the oldest.
func (b *memBudget) sent(a *account, n int64) {
	b.total += n - a.window.push(n)
}

// gone forgets a's window: ZeroMQ has dropped its connection, and the
// queue with it. The account goes too unless an op still holds bytes for it.
func (b *memBudget) gone(a *account) {
	b.total -= a.window.sum
	a.window = clientWindow{}
	b.forgetIfIdle(a)
}

// forgetIfIdle drops a client's account once nothing is counted for it.
func (b *memBudget) forgetIfIdle(a *account) {
	if b.isDuty(a) || a.ops > 0 || a.bytes() != 0 {
		return
	}
	if b.clients[a.key] == a {
		delete(b.clients, a.key)
		b.forgotten++
	}
}

// sizeOf returns the last known encoded size of a list, or 0.
func (b *memBudget) sizeOf(list [16]byte) int64 { return b.sizes[list] }

// learnSize remembers a list's encoded size; the memory is cleared when
// full rather than grown.
func (b *memBudget) learnSize(list [16]byte, n int64) {
	if len(b.sizes) >= sizesKept {
		clear(b.sizes)
	}
	b.sizes[list] = n
}

// expectPush is what a push of body is expected to hold: the body, and a
// copy toward each of n replicas.
func expectPush(body []byte, n int) int64 {
	return int64(n+1) * (int64(len(body)) + msgOverhead)
}

// expectPull is what a pull of a list whose last known size is size (0:
// unknown) reserves: an answer from each of n replicas. Its reply is
// counted when it is sent.
func expectPull(size int64, n int) int64 {
	if size == 0 {
		size = pullGuess
	}
	return int64(n) * (size + msgOverhead)
}

// msgBytes is what message m counts, body and overhead.
func msgBytes(m protocol.Message) int64 { return int64(len(m.Body)) + msgOverhead }
