package dealer

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	zmq "github.com/pebbe/zmq4"

	"shoplist/protocol"
)

// fakeProxy is a ROUTER owned by one goroutine that answers each request
// with answer(request): the messages to send back, in order. It records
// the request IDs it saw.
type fakeProxy struct {
	endpoint string
	mu       sync.Mutex // guards ids
	ids      []uint64
}

func startFakeProxy(t *testing.T, answer func(m protocol.Message) []protocol.Message) *fakeProxy {
	t.Helper()
	s, err := zmq.NewSocket(zmq.ROUTER)
	if err == nil {
		err = errors.Join(s.SetLinger(0), s.SetRcvtimeo(RecvSlice), s.Bind("tcp://127.0.0.1:*"))
	}
	if err != nil {
		t.Fatal(err)
	}
	ep, err := s.GetLastEndpoint()
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeProxy{endpoint: ep}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		defer s.Close()
		for ctx.Err() == nil {
			frames, err := Recv(ctx, s, time.Now())
			if err != nil {
				continue
			}
			identity, rest, err := protocol.SplitRouting(frames)
			if err != nil {
				continue
			}
			m, err := protocol.Parse(rest)
			if err != nil {
				continue
			}
			f.mu.Lock()
			f.ids = append(f.ids, m.RequestID)
			f.mu.Unlock()
			for _, r := range answer(m) {
				s.SendMessage(r.AppendFrames(identity))
			}
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return f
}

func (f *fakeProxy) seen() []uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]uint64(nil), f.ids...)
}

func dialT(t *testing.T, endpoint string, timeout time.Duration) *Conn {
	t.Helper()
	c, err := DialConn(endpoint, timeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestCallMatchesTheReplyToItsRequest(t *testing.T) {
	list := uuid.New()
	f := startFakeProxy(t, func(m protocol.Message) []protocol.Message {
		// A reply to another request comes first.
		return []protocol.Message{protocol.NewOK(m.RequestID+100, list), protocol.NewPullReply(m.RequestID, m.ListID, nil)}
	})
	c := dialT(t, f.endpoint, 5*time.Second)
	for range 3 {
		reply, err := c.Expect(context.Background(), protocol.NewPull(0, list), protocol.TypePullReply)
		if err != nil {
			t.Fatal(err)
		}
		if reply.ListID != list {
			t.Fatalf("reply for list %s, want %s", reply.ListID, list)
		}
	}
	if got := f.seen(); len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 3 {
		t.Fatalf("request IDs %v, want 1, 2, 3", got)
	}
}

func TestCallReturnsAnErrorReplyAsItsErrorBody(t *testing.T) {
	f := startFakeProxy(t, func(m protocol.Message) []protocol.Message {
		return []protocol.Message{protocol.NewError(m.RequestID, protocol.CodeQuorumFailed, "two servers down")}
	})
	c := dialT(t, f.endpoint, 5*time.Second)
	reply, err := c.Call(context.Background(), protocol.NewPush(0, uuid.New(), []byte("x")))
	var remote protocol.ErrorBody
	if !errors.As(err, &remote) || remote.Code != protocol.CodeQuorumFailed || reply.Type != protocol.TypeError {
		t.Fatalf("reply %v, error %v: want the QuorumFailed error", reply.Type, err)
	}
	if _, err := c.Expect(context.Background(), protocol.NewHello(0), protocol.TypeWelcome); protocol.CodeOf(err) != protocol.CodeQuorumFailed {
		t.Fatalf("Expect: %v, want the QuorumFailed error", err)
	}
}

func TestCallTimesOutAndRedialKeepsTheRequestIDs(t *testing.T) {
	f := startFakeProxy(t, func(protocol.Message) []protocol.Message { return nil })
	c := dialT(t, f.endpoint, 300*time.Millisecond)
	start := time.Now()
	_, err := c.Call(context.Background(), protocol.NewPull(0, uuid.New()))
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("no reply: %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 300*time.Millisecond+2*RecvSlice+time.Second {
		t.Errorf("timed out after %v, want 300ms plus at most a receive slice", d)
	}
	if err := c.Redial(f.endpoint); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Call(ctx, protocol.NewPull(0, uuid.New())); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call: %v, want context.Canceled", err)
	}
	eventually(t, func() bool { got := f.seen(); return len(got) == 2 && got[0] == 1 && got[1] == 2 })
	c.Close()
	if _, err := c.Call(context.Background(), protocol.NewHello(0)); !errors.Is(err, ErrClosed) {
		t.Fatalf("call on a closed connection: %v, want ErrClosed", err)
	}
}

func TestHelloReadsTheWelcome(t *testing.T) {
	f := startFakeProxy(t, func(m protocol.Message) []protocol.Message {
		w, _ := protocol.NewWelcome(m.RequestID, 7, protocol.WelcomeBody{PubEndpoint: "tcp://127.0.0.1:5556", Now: 42})
		return []protocol.Message{w}
	})
	c := dialT(t, f.endpoint, 5*time.Second)
	w, err := c.Hello(context.Background())
	if err != nil || w.PubEndpoint != "tcp://127.0.0.1:5556" || w.Now != 42 {
		t.Fatalf("welcome %+v, %v", w, err)
	}
}

func TestWelcomeRefusesWhatIsNotAWelcome(t *testing.T) {
	if _, err := Welcome(protocol.NewOK(1, uuid.Nil)); !errors.Is(err, ErrUnexpectedReply) {
		t.Errorf("OK to Hello: %v, want ErrUnexpectedReply", err)
	}
	if _, err := Welcome(protocol.NewError(1, protocol.CodeBadRequest, "no")); protocol.CodeOf(err) != protocol.CodeBadRequest {
		t.Errorf("Error to Hello: %v, want its BadRequest", err)
	}
	bad := protocol.Message{Header: protocol.Header{Type: protocol.TypeWelcome, RequestID: 1}, Body: []byte{0xff}}
	if _, err := Welcome(bad); !errors.Is(err, protocol.ErrMalformed) {
		t.Errorf("undecodable Welcome: %v, want ErrMalformed", err)
	}
}

func TestIDsAreNonzeroAndNeverRepeat(t *testing.T) {
	var g IDs
	seen := map[uint64]bool{0: true}
	for range 1000 {
		id := g.Next()
		if seen[id] {
			t.Fatalf("ID %d handed out twice (or zero)", id)
		}
		seen[id] = true
	}
}

func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
