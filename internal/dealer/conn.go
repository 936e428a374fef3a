package dealer

import (
	"context"
	"fmt"
	"syscall"
	"time"

	zmq "github.com/pebbe/zmq4"

	"shoplist/protocol"
)

// Conn is a synchronous connection to a proxy: a DEALER whose receives
// time out after RecvSlice, and the request IDs of its owner. Call keeps
// one request outstanding; Send and Receive let the owner pipeline several
// and match the replies itself. A Conn must be used by one goroutine only:
// the goroutine that owns it.
//
// Its hot path, Call, costs what a hand-written loop would: one send, one
// blocking receive per reply and no allocation beyond the message's frames,
// since the load generator measures the cluster through it.
type Conn struct {
	sock    *zmq.Socket // nil once closed
	ids     IDs
	timeout time.Duration // per request
}

// DialConn connects a Conn to endpoint; each request waits timeout for
// its reply.
func DialConn(endpoint string, timeout time.Duration) (*Conn, error) {
	c := &Conn{timeout: timeout}
	return c, c.Redial(endpoint)
}

// Redial closes the socket, dropping any reply still due on it, and
// connects a fresh one to endpoint. The request IDs go on from where they
// were.
func (c *Conn) Redial(endpoint string) error {
	c.Close()
	s, err := Dial(endpoint, Options{RecvTimeout: RecvSlice})
	if err != nil {
		return err
	}
	c.sock = s
	return nil
}

// Close closes the socket; it may be called again.
func (c *Conn) Close() error {
	if c.sock == nil {
		return nil
	}
	err := c.sock.Close()
	c.sock = nil
	return err
}

// Send sends m with a fresh request ID and returns the ID, without
// waiting for the reply.
func (c *Conn) Send(m protocol.Message) (uint64, error) {
	if c.sock == nil {
		return 0, ErrClosed
	}
	m.RequestID = c.ids.Next()
	if _, err := c.sock.SendMessage(m.Frames()); err != nil {
		return 0, fmt.Errorf("dealer: send %v: %w", m.Type, err)
	}
	return m.RequestID, nil
}

// Receive waits for the next reply, whatever request it answers, until
// deadline or until ctx ends. The receive errors (ErrTimeout, ctx's error)
// come unwrapped.
func (c *Conn) Receive(ctx context.Context, deadline time.Time) (protocol.Message, error) {
	if c.sock == nil {
		return protocol.Message{}, ErrClosed
	}
	frames, err := Recv(ctx, c.sock, deadline)
	if err != nil {
		return protocol.Message{}, err
	}
	reply, err := protocol.Parse(frames)
	if err != nil {
		return protocol.Message{}, fmt.Errorf("dealer: reply: %w", err)
	}
	return reply, nil
}

// Call sends m with a fresh request ID and waits for its reply, dropping
// replies to earlier requests that timed out. An Error reply is returned
// with its protocol.ErrorBody as the error.
func (c *Conn) Call(ctx context.Context, m protocol.Message) (protocol.Message, error) {
	id, err := c.Send(m)
	if err != nil {
		return protocol.Message{}, err
	}
	deadline := time.Now().Add(c.timeout)
	for {
		reply, err := c.Receive(ctx, deadline)
		if err != nil {
			return protocol.Message{}, fmt.Errorf("%v: %w", m.Type, err)
		}
		if reply.RequestID != id {
			continue // a late reply to a request that timed out
		}
		if err := reply.Err(); err != nil {
			return reply, err
		}
		return reply, nil
	}
}

// Expect calls and checks that the reply has type want.
func (c *Conn) Expect(ctx context.Context, m protocol.Message, want protocol.Type) (protocol.Message, error) {
	reply, err := c.Call(ctx, m)
	if err != nil {
		return reply, err
	}
	if reply.Type != want {
		return reply, fmt.Errorf("%w: %v to %v, want %v", ErrUnexpectedReply, reply.Type, m.Type, want)
	}
	return reply, nil
}

// Hello sends Hello and returns the Welcome's body.
func (c *Conn) Hello(ctx context.Context) (protocol.WelcomeBody, error) {
	reply, err := c.Call(ctx, protocol.NewHello(0))
	if err != nil {
		return protocol.WelcomeBody{}, err
	}
	w, err := Welcome(reply)
	if err != nil {
		return w, fmt.Errorf("dealer: welcome: %w", err)
	}
	return w, nil
}

// Recv waits for one message on s until deadline or until ctx ends. s
// must be a socket whose receives time out (Options.RecvTimeout, normally
// RecvSlice): each blocking receive is one slice, after which the context
// and the deadline are looked at, so a deadline is noticed up to one slice
// late; with a deadline of time.Now(), Recv waits one slice at most.
func Recv(ctx context.Context, s *zmq.Socket, deadline time.Time) ([][]byte, error) {
	for {
		frames, err := s.RecvMessageBytes(0)
		if err == nil {
			return frames, nil
		}
		if zmq.AsErrno(err) != zmq.Errno(syscall.EAGAIN) {
			return nil, fmt.Errorf("dealer: receive: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, ErrTimeout
		}
	}
}
