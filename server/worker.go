package server

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	zmq "github.com/pebbe/zmq4"

	"shoplist/crdt"
	"shoplist/protocol"
	"shoplist/storage"
)

// job is one request for a worker, and where its reply goes.
type job struct {
	link int    // index of the proxy link it came on
	gen  uint64 // that link's connection number when it came
	msg  protocol.Message
}

// routeLen is the length of the route frame that leads a worker's reply to
// the loop: link index (4 bytes) and connection number (8), big-endian.
const routeLen = 4 + 8

// byeFrame is the one-frame message a worker sends when it stops; an empty
// one-frame message is the waker's.
const byeFrame = "bye"

// work is a worker goroutine. It owns one inproc PUSH socket connected to
// the loop's PULL socket and sends each reply there as [route][header][body],
// never touching the proxy sockets. It reports on ready whether its socket
// is up, then serves jobs until the loop closes the queue; jobs still queued
// once ctx is done are answered "shutting down" rather than served.
func (s *Server) work(ctx context.Context, ready chan<- error) {
	defer s.workersLeft.Add(-1)
	sock, err := zmq.NewSocket(zmq.PUSH)
	if err == nil {
		err = sock.SetLinger(0)
		if err == nil {
			err = sock.Connect(s.replyAddr)
		}
		if err != nil {
			sock.Close()
		}
	}
	if err != nil {
		ready <- fmt.Errorf("server: worker reply socket: %w", err)
		return
	}
	ready <- nil
	defer func() {
		// Best effort: the loop also stops waiting once every worker
		// has returned.
		sock.SendMessageDontwait(byeFrame)
		sock.Close()
	}()
	route := make([]byte, routeLen)
	for j := range s.jobs {
		var reply protocol.Message
		if ctx.Err() != nil {
			reply = protocol.NewError(j.msg.RequestID, protocol.CodeUnavailable, "server shutting down")
		} else {
			if s.cfg.beforeJob != nil {
				s.cfg.beforeJob()
			}
			reply = s.serve(j.msg)
		}
		reply.ListID = j.msg.ListID
		binary.BigEndian.PutUint32(route, uint32(j.link))
		binary.BigEndian.PutUint64(route[4:], j.gen)
		// Blocking: the loop drains this socket until every worker is
		// done, so a full pipe only slows the worker down.
		if _, err := sock.SendMessage(route, s.stamp(reply).Frames()); err != nil {
			s.log.warn("reply-socket", "server: cannot hand a reply to the socket loop", "err", err)
		}
	}
}

// serve answers one Store or Fetch.
func (s *Server) serve(m protocol.Message) protocol.Message {
	switch m.Type {
	case protocol.TypeStore:
		return s.storeList(m)
	case protocol.TypeFetch:
		return s.fetchList(m)
	}
	// The loop queues nothing else.
	return protocol.NewError(m.RequestID, protocol.CodeInternal, fmt.Sprintf("%v reached a worker", m.Type))
}

// storeList decodes the list, checks it and merges it into the store; it
// acknowledges only once the merge is durable.
func (s *Server) storeList(m protocol.Message) protocol.Message {
	l, err := crdt.Decode(m.Body)
	if err != nil {
		s.log.warn("store-undecodable", "server: refused an undecodable list", "list", m.ListID, "err", err)
		return protocol.NewErrorFrom(m.RequestID, fmt.Errorf("list body: %w", err))
	}
	if l.ID() != m.ListID {
		s.log.warn("store-id-mismatch", "server: refused a list under another list's ID", "header", m.ListID, "body", l.ID())
		return protocol.NewError(m.RequestID, protocol.CodeInvalidList,
			fmt.Sprintf("the list body is list %s but the header names %s", l.ID(), m.ListID))
	}
	if err := s.checkSkew(l); err != nil {
		s.log.warn("store-clock-skew", "server: refused a list stamped in the future", "list", m.ListID, "err", err)
		return protocol.NewError(m.RequestID, protocol.CodeClockSkew, err.Error())
	}
	if _, err := s.store.SaveMerge(l); err != nil {
		return s.storageError(m, "store", err)
	}
	return protocol.NewStoreReply(m.RequestID, m.ListID)
}

// checkSkew refuses a list stamped more than MaxSkew ahead of the clock: one
// device with a clock far in the future would otherwise win every
// last-writer-wins register of the list until real time caught up.
func (s *Server) checkSkew(l *crdt.List) error {
	now := s.cfg.Now()
	ahead := time.Duration(l.MaxStamp().Wall-now.UnixMilli()) * time.Millisecond
	if ahead <= s.cfg.MaxSkew {
		return nil
	}
	return fmt.Errorf("list %s has edits stamped %v ahead of this server's clock (%s); at most %v is accepted: the clock of the device that made them is wrong",
		l.ID(), ahead, now.UTC().Format(time.RFC3339), s.cfg.MaxSkew)
}

// fetchList answers with the stored state's canonical encoding, or an empty
// body if the server holds nothing for the list.
func (s *Server) fetchList(m protocol.Message) protocol.Message {
	enc, err := s.store.LoadEncoded(m.ListID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return protocol.NewFetchReply(m.RequestID, m.ListID, nil)
	case err != nil:
		return s.storageError(m, "fetch", err)
	}
	return protocol.NewFetchReply(m.RequestID, m.ListID, enc)
}

// storageError turns a store failure into an Error reply: Unavailable while
// shutting down, the protocol's code for a list over the item limit, and
// Internal (logged) for everything else, such as a corrupt replica.
func (s *Server) storageError(m protocol.Message, op string, err error) protocol.Message {
	if errors.Is(err, storage.ErrClosed) {
		return protocol.NewError(m.RequestID, protocol.CodeUnavailable, "server shutting down")
	}
	reply := protocol.NewErrorFrom(m.RequestID, fmt.Errorf("%s of list %s: %w", op, m.ListID, err))
	if !errors.Is(err, crdt.ErrTooLarge) {
		s.log.error(op+"-failed", "server: "+op+" failed", "list", m.ListID, "err", err)
	}
	return reply
}
