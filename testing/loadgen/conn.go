package loadgen

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	zmq "github.com/pebbe/zmq4"

	"shoplist/protocol"
)

// Sentinel errors of a request.
var (
	// ErrTimeout means no reply came within the request timeout.
	ErrTimeout = errors.New("loadgen: no reply in time")
	// ErrUnexpectedReply means the reply was of a type the request does
	// not take.
	ErrUnexpectedReply = errors.New("loadgen: unexpected reply")
)

// recvSlice bounds one blocking receive, so a waiting caller notices a
// cancelled context within this time.
const recvSlice = 100 * time.Millisecond

// conn is one client's DEALER connection to a proxy, with at most one
// request outstanding. It must be used by one goroutine only: the goroutine
// that owns it.
type conn struct {
	sock    *zmq.Socket
	next    uint64 // last request ID used
	timeout time.Duration
}

// newSocket returns a socket of the kind with linger 0 and receives that
// time out after recvSlice, connected to endpoint; identity and the receive
// high-water mark, when not empty or zero, are set before connecting.
func newSocket(kind zmq.Type, endpoint, identity string, rcvHWM int) (*zmq.Socket, error) {
	s, err := zmq.NewSocket(kind)
	if err != nil {
		return nil, fmt.Errorf("loadgen: new %v socket: %w", kind, err)
	}
	err = s.SetLinger(0)
	if err == nil && identity != "" {
		err = s.SetIdentity(identity)
	}
	if err == nil && rcvHWM > 0 {
		err = s.SetRcvhwm(rcvHWM)
	}
	if err == nil {
		err = s.SetRcvtimeo(recvSlice)
	}
	if err == nil {
		err = s.Connect(endpoint)
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("loadgen: %v socket to %s: %w", kind, endpoint, err)
	}
	return s, nil
}

// dial connects a DEALER to the proxy's client endpoint.
func dial(endpoint string, timeout time.Duration) (*conn, error) {
	s, err := newSocket(zmq.DEALER, endpoint, "", 0)
	if err != nil {
		return nil, err
	}
	return &conn{sock: s, timeout: timeout}, nil
}

// Close closes the socket.
func (c *conn) Close() error { return c.sock.Close() }

// reqID returns a fresh nonzero request ID.
func (c *conn) reqID() uint64 {
	c.next++
	return c.next
}

// recvFrames waits for one message until deadline or until ctx ends.
func recvFrames(ctx context.Context, s *zmq.Socket, deadline time.Time) ([][]byte, error) {
	for {
		frames, err := s.RecvMessageBytes(0)
		if err == nil {
			return frames, nil
		}
		if zmq.AsErrno(err) != zmq.Errno(syscall.EAGAIN) {
			return nil, fmt.Errorf("loadgen: receive: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, ErrTimeout
		}
	}
}

// call sends m with a fresh request ID and waits for its reply, dropping
// replies to earlier requests that timed out. An Error reply is returned
// as its protocol.ErrorBody.
func (c *conn) call(ctx context.Context, m protocol.Message) (protocol.Message, error) {
	m.RequestID = c.reqID()
	if _, err := c.sock.SendMessage(m.Frames()); err != nil {
		return protocol.Message{}, fmt.Errorf("loadgen: send %v: %w", m.Type, err)
	}
	deadline := time.Now().Add(c.timeout)
	for {
		frames, err := recvFrames(ctx, c.sock, deadline)
		if err != nil {
			return protocol.Message{}, fmt.Errorf("%v: %w", m.Type, err)
		}
		reply, err := protocol.Parse(frames)
		if err != nil {
			return protocol.Message{}, fmt.Errorf("loadgen: reply to %v: %w", m.Type, err)
		}
		if reply.RequestID != m.RequestID {
			continue // a late reply to a request that timed out
		}
		if err := reply.Err(); err != nil {
			return reply, err
		}
		return reply, nil
	}
}

// expect calls and checks that the reply has type want.
func (c *conn) expect(ctx context.Context, m protocol.Message, want protocol.Type) (protocol.Message, error) {
	reply, err := c.call(ctx, m)
	if err != nil {
		return reply, err
	}
	if reply.Type != want {
		return reply, fmt.Errorf("%w: %v to %v, want %v", ErrUnexpectedReply, reply.Type, m.Type, want)
	}
	return reply, nil
}

// hello sends Hello and returns the Welcome's body.
func (c *conn) hello(ctx context.Context) (protocol.WelcomeBody, error) {
	reply, err := c.expect(ctx, protocol.NewHello(0), protocol.TypeWelcome)
	if err != nil {
		return protocol.WelcomeBody{}, err
	}
	w, err := protocol.DecodeWelcomeBody(reply.Body)
	if err != nil {
		return w, fmt.Errorf("loadgen: welcome: %w", err)
	}
	return w, nil
}

// errorKey names an error for the per-code error counts: the protocol
// error code, "Timeout", or "Other".
func errorKey(err error) string {
	var remote protocol.ErrorBody
	switch {
	case errors.As(err, &remote):
		return remote.Code.String()
	case errors.Is(err, ErrTimeout):
		return "Timeout"
	}
	return "Other"
}
