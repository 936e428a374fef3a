// Package dealer speaks request–reply to a proxy over a DEALER socket:
// it numbers the requests and matches each reply to the request it answers.
//
// Three clients of a proxy use it, each in its own way. The sync engine
// (package syncer) keeps many requests in flight from its poll loop and
// takes from here only the socket set-up (Dial), the request numbering
// (IDs) and the reading of a Welcome (Welcome). The load generator and the
// test writers are synchronous, one request outstanding at a time, and use
// a Conn: Call sends a request and waits for its reply, dropping late
// replies to requests given up before.
//
// A socket belongs to one goroutine, the one that owns it; nothing here
// is safe for concurrent use.
package dealer

import (
	"errors"
	"fmt"
	"time"

	zmq "github.com/pebbe/zmq4"

	"shoplist/internal/curvekey"
)

// Sentinel errors of a request.
var (
	// ErrTimeout means no reply came within the request timeout.
	ErrTimeout = errors.New("dealer: no reply in time")
	// ErrUnexpectedReply means the reply was of a type the request does
	// not take.
	ErrUnexpectedReply = errors.New("dealer: unexpected reply")
	// ErrClosed means the connection's socket is closed.
	ErrClosed = errors.New("dealer: connection closed")
)

// RecvSlice bounds one blocking receive of a Conn, and of any socket Recv
// waits on, so that a waiting caller notices a cancelled context or a
// passed deadline within this time.
const RecvSlice = 100 * time.Millisecond

// Options are the socket options Dial sets before connecting. Zero fields
// leave ZeroMQ's defaults.
type Options struct {
	// Identity is the routing identity the peer's ROUTER sees.
	Identity string
	// RecvTimeout makes a blocking receive give up after this long
	// (ZMQ_RCVTIMEO), so that Recv can watch a context and a deadline.
	RecvTimeout time.Duration
	// MaxMsgSize caps a message part; a peer that sends a larger one is
	// disconnected (ZMQ_MAXMSGSIZE).
	MaxMsgSize int64
	// Key is this side's CURVE key pair, used when the endpoint carries the
	// proxy's key; the zero Pair means a new pair for this socket alone.
	Key curvekey.Pair
}

// Dial returns a DEALER connected to endpoint, with linger 0: closing it
// drops whatever it still queues, so a connection given up leaves nothing
// behind to be delivered later. An endpoint of the form ENDPOINT#KEY
// (curvekey.SplitEndpoint) is dialled as a CURVE client that pins KEY: the
// handshake fails, and nothing is sent or received, unless the peer holds
// that key's secret.
func Dial(endpoint string, o Options) (*zmq.Socket, error) {
	s, err := zmq.NewSocket(zmq.DEALER)
	if err != nil {
		return nil, fmt.Errorf("dealer: new socket: %w", err)
	}
	err = s.SetLinger(0)
	if err == nil && o.Identity != "" {
		err = s.SetIdentity(o.Identity)
	}
	if err == nil && o.RecvTimeout > 0 {
		err = s.SetRcvtimeo(o.RecvTimeout)
	}
	if err == nil && o.MaxMsgSize > 0 {
		err = s.SetMaxmsgsize(o.MaxMsgSize)
	}
	if err == nil {
		err = Connect(s, endpoint, o.Key)
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("dealer: connecting to %s: %w", endpoint, err)
	}
	return s, nil
}

// Connect connects s, which has not connected yet, to endpoint. An
// endpoint of the form ENDPOINT#KEY (curvekey.SplitEndpoint) makes s a
// CURVE client that pins KEY (Pin, with own); a bare one, a plain socket.
func Connect(s *zmq.Socket, endpoint string, own curvekey.Pair) error {
	addr, key, err := curvekey.SplitEndpoint(endpoint)
	if err != nil {
		return err
	}
	if key != "" {
		if err := Pin(s, key, own); err != nil {
			return err
		}
	}
	return s.Connect(addr)
}

// IDs hands out request IDs: nonzero, and never repeated by one IDs, so a
// late reply to a request given up matches no request sent after it, even
// on a later socket when the owner keeps its IDs across reconnections. The
// zero IDs is ready to use; it belongs to the goroutine that owns the
// socket.
type IDs struct {
	last uint64 // the last ID handed out
}

// Next returns a fresh request ID.
func (g *IDs) Next() uint64 {
	g.last++
	return g.last
}

// Pin makes s, before it connects, a CURVE client that accepts only the
// peer holding the secret of serverKey, and proves itself with own (a new
// pair when own is zero). Every socket that dials a proxy's client ROUTER
// or PUB is pinned (Connect): the proxy's CURVE server refuses any other
// handshake.
func Pin(s *zmq.Socket, serverKey string, own curvekey.Pair) error {
	if own == (curvekey.Pair{}) {
		var err error
		if own, err = curvekey.Generate(); err != nil {
			return err
		}
	}
	for _, set := range []func() error{
		func() error { return s.SetCurveServerkey(serverKey) },
		func() error { return s.SetCurvePublickey(own.Public) },
		func() error { return s.SetCurveSecretkey(own.Secret) },
	} {
		if err := set(); err != nil {
			return fmt.Errorf("dealer: CURVE: %w", err)
		}
	}
	return nil
}
