// Package zpoll waits for ZeroMQ sockets in Go's network poller, so that a
// socket loop with nothing to do parks its goroutine instead of blocking a
// thread in a cgo call.
//
// zmq.Poller waits in zmq_poll, a cgo call: the goroutine keeps its thread
// and, until the runtime's monitor (sysmon) takes it back, its P. A busy
// server paid for that on every message: sysmon polling every 20 µs to
// retake Ps, and a thread switch for every goroutine the loop woke before
// it blocked (docs/BENCHMARKS.md, "Waiting in the network poller"). Here the
// wait is a read on an epoll descriptor that Go's poller watches: the loop's
// goroutine parks, its thread runs whatever the loop woke, and the only cgo
// calls are short ones.
//
// How readiness is learnt is libzmq's documented contract for ZMQ_FD
// (zmq_getsockopt(3)): the descriptor signals that the socket's state may
// have changed, edge-triggered, and ZMQ_EVENTS says what it is now. Poll
// therefore reads every socket's ZMQ_EVENTS before it waits — which also
// consumes the signal — and waits only when none has what is asked for;
// any command that reaches a socket after that read signals its descriptor
// again and ends the wait.
package zpoll

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	zmq "github.com/pebbe/zmq4"
	"golang.org/x/sys/unix"
)

// Poller waits for events on a set of ZeroMQ sockets. It is not safe for
// concurrent use: it belongs to the goroutine that owns the sockets.
type Poller struct {
	ep     *os.File        // the epoll descriptor, registered in Go's poller
	epfd   int             // ep's number; ep.Fd would make ep blocking
	raw    syscall.RawConn // ep's, to wait on it
	items  []item
	events []unix.EpollEvent // epoll_wait's buffer
	out    []zmq.Polled      // Poll's result, reused
}

// item is one socket and the events asked for it.
type item struct {
	sock   *zmq.Socket
	fd     int
	events zmq.State
}

// New returns an empty Poller; Close releases it.
func New() (*Poller, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("zpoll: epoll_create1: %w", err)
	}
	// Non-blocking, so that os.NewFile registers it in Go's poller rather
	// than treat it as a blocking file.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("zpoll: %w", err)
	}
	ep := os.NewFile(uintptr(fd), "zpoll")
	raw, err := ep.SyscallConn()
	if err != nil {
		ep.Close()
		return nil, fmt.Errorf("zpoll: %w", err)
	}
	return &Poller{ep: ep, epfd: fd, raw: raw, events: make([]unix.EpollEvent, 8)}, nil
}

// Add asks Poll for events (zmq.POLLIN, zmq.POLLOUT or both) on sock. A
// socket added twice is polled for the events of the last Add.
func (p *Poller) Add(sock *zmq.Socket, events zmq.State) error {
	fd, err := sock.GetFd()
	if err != nil {
		return fmt.Errorf("zpoll: ZMQ_FD: %w", err)
	}
	for i := range p.items {
		if p.items[i].sock == sock {
			p.items[i].events = events
			return nil
		}
	}
	// Level-triggered: the descriptor stays readable until ZMQ_EVENTS has
	// consumed its signal, so no signal is lost between two waits.
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
	err = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev)
	if errors.Is(err, unix.EEXIST) {
		// A socket closed without Remove left its descriptor's number
		// to this one; the registration is the same.
		err = nil
	}
	if err != nil {
		return fmt.Errorf("zpoll: adding a socket: %w", err)
	}
	p.items = append(p.items, item{sock: sock, fd: fd, events: events})
	return nil
}

// Reset removes every socket. Sockets closed since they were added need no
// Reset: closing a descriptor takes it out of epoll by itself.
func (p *Poller) Reset() {
	for _, it := range p.items {
		// ENOENT or EBADF: the socket was closed, which removed it.
		_ = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, it.fd, nil)
	}
	clear(p.items)
	p.items = p.items[:0]
}

// Poll returns the sockets that have any of the events asked for, with the
// events they have. If none has, it waits until one has or timeout has
// passed (then it returns none); a negative timeout waits for ever, zero
// does not wait. The result is valid until the next Poll.
func (p *Poller) Poll(timeout time.Duration) ([]zmq.Polled, error) {
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		out, err := p.ready()
		if err != nil || len(out) > 0 || timeout == 0 {
			return out, err
		}
		if err := p.ep.SetReadDeadline(deadline); err != nil {
			return nil, fmt.Errorf("zpoll: %w", err)
		}
		err = p.raw.Read(p.signalled)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("zpoll: waiting: %w", err)
		}
	}
}

// ready reads each socket's ZMQ_EVENTS and returns those with an event
// asked for.
func (p *Poller) ready() ([]zmq.Polled, error) {
	p.out = p.out[:0]
	for _, it := range p.items {
		ev, err := it.sock.GetEvents()
		if err != nil {
			return nil, fmt.Errorf("zpoll: ZMQ_EVENTS: %w", err)
		}
		if ev&it.events != 0 {
			p.out = append(p.out, zmq.Polled{Socket: it.sock, Events: ev & it.events})
		}
	}
	return p.out, nil
}

// signalled is the wait's condition, run by Go's poller on the epoll
// descriptor: whether any socket's descriptor has signalled. It never
// blocks.
func (p *Poller) signalled(fd uintptr) bool {
	n, err := unix.EpollWait(int(fd), p.events, 0)
	// EINTR: look again once the poller says so; any other error is
	// reported by the next ZMQ_EVENTS of the socket concerned.
	return n > 0 || (err != nil && !errors.Is(err, unix.EINTR))
}

// Close removes every socket and releases the poller.
func (p *Poller) Close() error {
	p.Reset()
	return p.ep.Close()
}
