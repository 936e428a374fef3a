//go:build partition

package partition

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"

	"shoplist/crdt"
	"shoplist/testing/ledger"
)

// The Sent of every client group lives in the test process: the writers
// of all groups write to the same shared lists, so a state one pulls holds
// deltas the others sent, and only the join of everything sent by anyone
// bounds it. Groups reach it over a Unix socket (a file: no partition cuts
// it), one request at a time per connection:
//
//	request: op (1 byte: 'A' add, 'C' check), length (4 bytes, big-endian), a list's encoding
//	reply:   to an add, one byte 0 once it is joined; to a check, length
//	         (4 bytes) and the JSON of the []ledger.Failure found
//
// An add is answered once joined, so a check made after it, from any
// group, covers it, as with one process's ledger.Sent.
const (
	opAdd   = 'A'
	opCheck = 'C'
	// maxFrame bounds a frame: a list encoding is at most 4 MiB.
	maxFrame = 8 << 20
)

// sentServer serves one ledger.Sent on a Unix socket.
type sentServer struct {
	sent *ledger.Sent
	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error // what went wrong serving, guarded by mu
}

func serveSent(path string) (*sentServer, error) {
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	s := &sentServer{sent: ledger.NewSent(), ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return // closed
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer conn.Close()
				if err := s.serve(conn); err != nil && !errors.Is(err, io.EOF) {
					s.mu.Lock()
					s.errs = append(s.errs, err)
					s.mu.Unlock()
				}
			}()
		}
	}()
	return s, nil
}

func (s *sentServer) serve(conn net.Conn) error {
	r := bufio.NewReader(conn)
	for {
		op, body, err := readFrame(r)
		if err != nil {
			return err
		}
		l, err := crdt.Decode(body)
		if err != nil {
			return fmt.Errorf("sent: a state that does not decode: %w", err)
		}
		switch op {
		case opAdd:
			s.sent.Add(l)
			if _, err := conn.Write([]byte{0}); err != nil {
				return err
			}
		case opCheck:
			out, err := json.Marshal(s.sent.Check(l))
			if err != nil {
				return err
			}
			var n [4]byte
			binary.BigEndian.PutUint32(n[:], uint32(len(out)))
			if _, err := conn.Write(append(n[:], out...)); err != nil {
				return err
			}
		default:
			return fmt.Errorf("sent: unknown op %q", op)
		}
	}
}

// close stops serving and returns what went wrong while it served.
func (s *sentServer) close() error {
	s.ln.Close()
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.errs...)
}

func readFrame(r *bufio.Reader) (byte, []byte, error) {
	op, err := r.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return 0, nil, err
	}
	size := binary.BigEndian.Uint32(n[:])
	if size > maxFrame {
		return 0, nil, fmt.Errorf("sent: a frame of %d bytes", size)
	}
	body := make([]byte, size)
	_, err = io.ReadFull(r, body)
	return op, body, err
}

// sentClient is a client group's connection to the test's Sent; it
// implements testcluster.Sent for every writer and device of the group.
// A broken connection is fatal to the group: fail is called, and the
// group reports it and exits.
type sentClient struct {
	mu   sync.Mutex
	conn net.Conn
	r    *bufio.Reader
	fail func(error)
}

func dialSent(path string, fail func(error)) (*sentClient, error) {
	conn, err := net.Dial("unix", path)
	if err != nil {
		return nil, err
	}
	return &sentClient{conn: conn, r: bufio.NewReader(conn), fail: fail}, nil
}

func (c *sentClient) request(op byte, l *crdt.List) []byte {
	enc := l.Encode()
	frame := make([]byte, 5, 5+len(enc))
	frame[0] = op
	binary.BigEndian.PutUint32(frame[1:], uint32(len(enc)))
	frame = append(frame, enc...)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.conn.Write(frame); err != nil {
		c.fail(fmt.Errorf("sent: %w", err))
		return nil
	}
	if op == opAdd {
		if _, err := c.r.ReadByte(); err != nil {
			c.fail(fmt.Errorf("sent: %w", err))
		}
		return nil
	}
	var n [4]byte
	if _, err := io.ReadFull(c.r, n[:]); err != nil {
		c.fail(fmt.Errorf("sent: %w", err))
		return nil
	}
	body := make([]byte, binary.BigEndian.Uint32(n[:]))
	if _, err := io.ReadFull(c.r, body); err != nil {
		c.fail(fmt.Errorf("sent: %w", err))
		return nil
	}
	return body
}

// Add joins delta into the test's Sent and returns once it is joined.
func (c *sentClient) Add(delta *crdt.List) { c.request(opAdd, delta) }

// Check returns the parts of read that nothing sent so far covers.
func (c *sentClient) Check(read *crdt.List) []ledger.Failure {
	body := c.request(opCheck, read)
	if body == nil {
		return nil
	}
	var out []ledger.Failure
	if err := json.Unmarshal(body, &out); err != nil {
		c.fail(fmt.Errorf("sent: a check's answer: %w", err))
	}
	return out
}

func (c *sentClient) close() { c.conn.Close() }
