package proxy

import (
	"time"

	zmq "github.com/pebbe/zmq4"
)

// Socket options that bound what ZeroMQ holds for the proxy's clients and
// subscribers, in messages and in time; budget.go turns them into bytes.
const (
	// clientHWM is the client ROUTER's send queue per client, in
	// messages. With ROUTER_MANDATORY a reply beyond it fails at once and
	// is dropped (the client retries), so the queue holds at most the last
	// clientHWM replies sent: what the client window counts (queues.go).
	// A client reads its replies as they come; a handful queued is
	// already a client that is behind.
	clientHWM = 32
	// clientRcvHWM is the client ROUTER's receive queue per client: past
	// it ZeroMQ stops reading that client's connection (it waits in TCP),
	// and the loop drains the queues every turn.
	clientRcvHWM = 64
	// pubHWM is the PUB's queue per subscriber: a subscriber that cannot
	// keep up loses updates beyond it and catches up by pulling.
	pubHWM = 32
	// maxLiveBody is the largest state published as a live update: a
	// subscriber's queue then holds at most pubHWM × maxLiveBody (2 MiB)
	// however large the lists pushed. Larger pushes (a whole list, a long
	// offline session's edits) reach subscribers by their next pull.
	maxLiveBody = 64 << 10
	// sndBuf is the kernel's send buffer per connection (SO_SNDBUF),
	// fixed rather than autotuned up to several MiB, so that what waits in
	// the kernel toward a peer that does not read is bounded too.
	sndBuf = 256 << 10
	// zmtpHeartbeat and zmtpTimeout: ZeroMQ pings each connection every
	// zmtpHeartbeat and drops one that has sent nothing for zmtpTimeout
	// after a ping (ZMTP 3.1 heartbeats, answered by the peer's ZeroMQ
	// whatever its application does), which frees its queue.
	zmtpHeartbeat = 5 * time.Second
	zmtpTimeout   = 15 * time.Second
	// tcpMaxRetransmit is TCP_USER_TIMEOUT (ZMQ_TCP_MAXRT): a connection
	// whose data stays unacknowledged this long is aborted, and Linux
	// (since 5.11) applies it to zero-window probes too. ZeroMQ pings only
	// between messages, so a peer that stops reading in the middle of a
	// large reply never gets a ping; this drops it instead.
	tcpMaxRetransmit = 30 * time.Second
)

// boundClientSocket sets the client ROUTER's bounds.
func boundClientSocket(s *zmq.Socket) error {
	return firstErr(
		s.SetSndhwm(clientHWM),
		s.SetRcvhwm(clientRcvHWM),
		s.SetRouterMandatory(1), // a full queue fails the send instead of hiding the drop
		s.SetSndbuf(sndBuf),
		s.SetHeartbeatIvl(zmtpHeartbeat),
		s.SetHeartbeatTimeout(zmtpTimeout),
		s.SetTcpMaxrt(tcpMaxRetransmit),
	)
}

// boundPubSocket sets the PUB's bounds.
func boundPubSocket(s *zmq.Socket) error {
	return firstErr(
		s.SetSndhwm(pubHWM),
		s.SetSndbuf(sndBuf),
		s.SetHeartbeatIvl(zmtpHeartbeat),
		s.SetHeartbeatTimeout(zmtpTimeout),
		s.SetTcpMaxrt(tcpMaxRetransmit),
	)
}
