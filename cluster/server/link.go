package server

import (
	"fmt"
	"math/rand/v2"
	"time"

	zmq "github.com/pebbe/zmq4"

	"shoplist/internal/curvekey"
	"shoplist/internal/zmonitor"
	"shoplist/protocol"
)

// maxInbound caps a message part from a proxy, beyond which ZeroMQ drops
// the connection without delivering it: twice the largest legal body, so a
// slightly oversize request still reaches the server and gets an Error
// TooLarge reply, while an absurd one costs no memory.
const maxInbound = 2 * protocol.MaxHintBodySize

// link is the server's connection to one proxy: a DEALER socket and its
// Paranoid Pirate state. Links belong to the socket loop; nothing else
// touches them.
type link struct {
	index    int
	endpoint string      // without the key
	key      string      // the proxy's public key; "" for an insecure backend
	sock     *zmq.Socket // nil between a silence and the reconnection
	mon      *zmq.Socket // sock's handshake monitor under CURVE (monitor.go), else nil
	gen      uint64      // connection number, bumped on each connect

	welcomed bool      // a ServerWelcome came on this connection
	helloDue bool      // a hello waits for the socket to become writable
	helloAt  time.Time // when the last hello went out
	helloID  uint64    // request ID of the last hello
	lastRecv time.Time // last message from the proxy, or the connect time
	lastSent time.Time // last message to the proxy, or failed heartbeat
	reportAt time.Time // when the next ServerReport is due, while welcomed
	retryAt  time.Time // when to reconnect, while sock is nil
	backoff  time.Duration

	out protocol.Batcher // answers gathered this turn, with Config.Batch (outbox.go)
}

// connect opens a new DEALER, a CURVE client with the server's key pair
// that pins the proxy's key (unless the backend is insecure), names it
// (socketIdentity; set before connecting, so the proxy's ROUTER knows it
// from the first message) and schedules a hello for when the connection
// is up. IMMEDIATE is on, so nothing is queued for a proxy that is not
// connected: sends fail at once instead, and the socket polls writable
// exactly when a connection is up (under CURVE: once the handshake
// succeeded, so a proxy that refuses the key never looks connected).
func (lk *link) connect(id string, pair curvekey.Pair, now time.Time) error {
	identity, err := socketIdentity(id, lk.key != "")
	if err != nil {
		return err
	}
	sock, err := zmq.NewSocket(zmq.DEALER)
	if err != nil {
		return fmt.Errorf("server: socket for proxy %s: %w", lk.endpoint, err)
	}
	for _, set := range []func() error{
		func() error { return sock.SetLinger(0) },
		func() error { return sock.SetIdentity(identity) },
		func() error {
			if lk.key == "" {
				return nil
			}
			return curveClient(sock, lk.key, pair)
		},
		func() error { return sock.SetImmediate(true) },
		func() error { return sock.SetMaxmsgsize(maxInbound) },
		func() error {
			if lk.key == "" {
				return nil
			}
			lk.mon, err = zmonitor.Open(sock, "server", handshakeEvents)
			return err
		},
		func() error { return sock.Connect(lk.endpoint) },
	} {
		if err = set(); err != nil {
			zmonitor.Close(sock, lk.mon)
			lk.mon = nil
			return fmt.Errorf("server: connecting to proxy %s: %w", lk.endpoint, err)
		}
	}
	lk.sock = sock
	lk.gen++
	lk.welcomed, lk.helloDue = false, true
	lk.lastRecv, lk.lastSent = now, now
	return nil
}

// disconnect closes the socket, dropping whatever it still queues, and
// schedules the reconnection after the back-off, which then doubles.
func (lk *link) disconnect(cfg Config, now time.Time) {
	lk.close()
	if lk.backoff == 0 {
		lk.backoff = cfg.minBackoff()
	}
	jitter := time.Duration(rand.Int64N(int64(lk.backoff)/4 + 1))
	lk.retryAt = now.Add(lk.backoff - jitter)
	lk.backoff = min(2*lk.backoff, cfg.maxBackoff())
	lk.welcomed, lk.helloDue = false, false
}

// close closes the socket (linger 0) and its monitor, if open.
func (lk *link) close() {
	zmonitor.Close(lk.sock, lk.mon)
	lk.sock, lk.mon = nil, nil
	lk.out = protocol.Batcher{} // answers to requests of that connection
}

// send sends m without blocking; see sendFrames.
func (lk *link) send(m protocol.Message, now time.Time) error { return lk.sendFrames(m.Frames(), now) }

// sendFrames sends a message's frames, [header][body], without blocking; it
// fails when the proxy is not connected or its queue is full, and the caller
// drops the message (the proxy times the request out and retries).
func (lk *link) sendFrames(frames [][]byte, now time.Time) error {
	if lk.sock == nil {
		return fmt.Errorf("server: proxy %s not connected", lk.endpoint)
	}
	if _, err := lk.sock.SendMessageDontwait(frames); err != nil {
		return fmt.Errorf("server: sending to proxy %s: %w", lk.endpoint, err)
	}
	lk.lastSent = now
	return nil
}

// sayHello sends a ServerHello, if the socket takes it now; otherwise the
// hello stays due until the socket polls writable.
func (lk *link) sayHello(id string, epoch uint64, now time.Time) {
	lk.helloID++
	hello, err := protocol.NewServerHello(lk.helloID, epoch, id)
	if err != nil {
		panic(err) // the ID passed protocol.CheckServerID when it was loaded
	}
	if lk.send(hello, now) == nil {
		lk.helloDue, lk.helloAt = false, now
	}
}

// forget records that the proxy no longer knows the server on this
// connection: the server says hello again at once. It reports whether the
// link was welcomed.
func (lk *link) forget() bool {
	if !lk.welcomed {
		return false
	}
	lk.welcomed, lk.helloDue = false, true
	return true
}

// welcome records a ServerWelcome and reports whether it is the first on
// this connection.
func (lk *link) welcome(cfg Config) bool {
	if lk.welcomed {
		return false
	}
	lk.welcomed, lk.helloDue = true, false
	lk.backoff = cfg.minBackoff()
	lk.reportAt = time.Time{} // report at once
	return true
}

// tick runs the link's timers and returns the next time it needs a tick.
// A silent proxy is disconnected; a link that is not welcomed says hello
// again once per interval; a welcomed one sends a ServerReport at once and
// then once per interval (it proves the server alive as well as a
// heartbeat does), and a heartbeat after an interval without sending
// anything (when a report could not be sent).
func (lk *link) tick(l *loop, now time.Time) time.Time {
	cfg := l.s.cfg
	if lk.sock == nil {
		if now.Before(lk.retryAt) {
			return lk.retryAt
		}
		if err := lk.connect(l.s.id, l.s.key, now); err != nil {
			l.s.log.error("connect", "server: cannot connect to proxy; retrying", "proxy", lk.endpoint, "err", err)
			lk.disconnect(cfg, now)
			return lk.retryAt
		}
		l.dirty = true
	}
	if quiet := now.Sub(lk.lastRecv); quiet >= cfg.silence() {
		welcomed := lk.welcomed
		lk.disconnect(cfg, now)
		l.s.cfg.Logger.Warn("proxy silent; reconnecting", "server", l.s.id, "proxy", lk.endpoint,
			"silent", quiet.Round(time.Millisecond), "was_welcomed", welcomed, "in", lk.retryAt.Sub(now).Round(time.Millisecond))
		l.dirty = true
		return lk.retryAt
	}
	next := lk.lastRecv.Add(cfg.silence())
	switch {
	case !lk.welcomed && !lk.helloDue:
		if now.Sub(lk.helloAt) >= cfg.Heartbeat {
			lk.helloDue = true
			l.dirty = true // poll for writable
		} else {
			next = earliest(next, lk.helloAt.Add(cfg.Heartbeat))
		}
	case lk.welcomed:
		if !now.Before(lk.reportAt) {
			l.sendReport(lk, now)
			lk.reportAt = now.Add(cfg.Heartbeat)
		}
		next = earliest(next, lk.reportAt)
		if now.Sub(lk.lastSent) >= cfg.Heartbeat {
			// A failed heartbeat is no loss: the next one follows an
			// interval later, as after a sent one.
			_ = lk.send(protocol.NewHeartbeat(l.s.epoch.Load()), now)
			lk.lastSent = now
		}
		next = earliest(next, lk.lastSent.Add(cfg.Heartbeat))
	}
	return next
}

// sendReport sends the proxy a ServerReport of the server's counts (kept
// in memory: no disk read in the loop). A report that cannot be sent is no
// loss: the next follows an interval later.
func (l *loop) sendReport(lk *link, now time.Time) {
	m, err := protocol.NewServerReport(l.s.epoch.Load(), l.s.report())
	if err != nil {
		l.s.log.error("report-encode", "server: cannot encode a server report", "err", err)
		return
	}
	_ = lk.send(m, now)
}

// earliest returns the earlier of a and b.
func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
