package syncer_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"shoplist/internal/curvekey"
	"shoplist/internal/doorbell"
	"shoplist/protocol"
)

// fakeProxy is a scripted proxy: a ROUTER for clients and a PUB, owned by
// one goroutine. handle answers each parseable client message with raw
// replies (frames after the identity); tests publish raw PUB messages.
type fakeProxy struct {
	endpoint, pubEndpoint string // with the key (ENDPOINT#KEY) when it has one
	key                   curvekey.Pair
	handle                func(f *fakeProxy, m protocol.Message) [][][]byte // runs on the fake's goroutine

	router, pub *zmq.Socket // owned by run
	bell        *doorbell.Doorbell
	toPublish   chan [][]byte
	restartPub  chan chan struct{} // closes and rebinds the PUB on its port; the inner channel says done

	mu         sync.Mutex // guards identities and types
	identities map[string]bool
	types      map[protocol.Type]int
}

// startFake binds a fake proxy on loopback ports; it stops when the test
// ends.
func startFake(t *testing.T, handle func(f *fakeProxy, m protocol.Message) [][][]byte) *fakeProxy {
	t.Helper()
	return startFakeWithKey(t, curvekey.Pair{}, handle)
}

// startFakeWithKey is startFake with the ROUTER and the PUB CURVE servers
// with key, as a proxy's are, unless key is zero.
func startFakeWithKey(t *testing.T, key curvekey.Pair, handle func(f *fakeProxy, m protocol.Message) [][][]byte) *fakeProxy {
	t.Helper()
	f := &fakeProxy{key: key, handle: handle, toPublish: make(chan [][]byte, 64), restartPub: make(chan chan struct{}, 1),
		identities: map[string]bool{}, types: map[protocol.Type]int{}}
	var err error
	f.router, f.endpoint = bind(t, zmq.ROUTER, key)
	f.pub, f.pubEndpoint = bind(t, zmq.PUB, key)
	if f.bell, err = doorbell.New("fake-proxy"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		f.bell.Run(ctx, nil)
	}()
	go func() {
		defer wg.Done()
		f.run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return f
}

// bind opens a socket of type kind on a loopback ephemeral port, a CURVE
// server with key unless key is zero; the endpoint carries the key then.
func bind(t *testing.T, kind zmq.Type, key curvekey.Pair) (*zmq.Socket, string) {
	t.Helper()
	s, err := zmq.NewSocket(kind)
	must(t, err)
	must(t, s.SetLinger(0))
	if key != (curvekey.Pair{}) {
		must(t, s.SetCurveServer(1))
		must(t, s.SetCurveSecretkey(key.Secret))
	}
	must(t, s.Bind("tcp://127.0.0.1:*"))
	ep, err := s.GetLastEndpoint()
	must(t, err)
	if key != (curvekey.Pair{}) {
		ep = curvekey.JoinEndpoint(ep, key.Public)
	}
	return s, ep
}

// run is the fake's loop.
func (f *fakeProxy) run(ctx context.Context) {
	defer func() {
		f.router.Close()
		f.pub.Close()
		f.bell.Socket().Close()
	}()
	p := zmq.NewPoller()
	p.Add(f.router, zmq.POLLIN)
	p.Add(f.bell.Socket(), zmq.POLLIN)
	for ctx.Err() == nil {
		polled, err := p.Poll(-1)
		if err != nil {
			continue // EINTR
		}
		for _, s := range polled {
			if s.Socket == f.bell.Socket() {
				f.bell.Drain()
				continue
			}
			for {
				frames, err := f.router.RecvMessageBytes(zmq.DONTWAIT)
				if err != nil {
					break
				}
				f.onMessage(frames)
			}
		}
		for len(f.toPublish) > 0 {
			f.pub.SendMessageDontwait(<-f.toPublish)
		}
		select {
		case done := <-f.restartPub:
			f.rebindPub(ctx)
			close(done)
		default:
		}
	}
}

// rebindPub closes the PUB and binds a new one on the same endpoint, as a
// restarted proxy would; the port may take a moment to come free.
func (f *fakeProxy) rebindPub(ctx context.Context) {
	f.pub.Close()
	for ctx.Err() == nil {
		s, err := zmq.NewSocket(zmq.PUB)
		if err != nil {
			continue
		}
		s.SetLinger(0)
		addr, _, _ := strings.Cut(f.pubEndpoint, "#")
		if f.key != (curvekey.Pair{}) {
			s.SetCurveServer(1)
			s.SetCurveSecretkey(f.key.Secret)
		}
		if err := s.Bind(addr); err == nil {
			f.pub = s
			return
		}
		s.Close()
		time.Sleep(10 * time.Millisecond) // the old socket's port is being released
	}
}

// restartPubSocket restarts the fake's PUB and waits until it is bound again.
func (f *fakeProxy) restartPubSocket(t *testing.T) {
	t.Helper()
	done := make(chan struct{})
	f.restartPub <- done
	f.bell.Ring()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the fake proxy did not rebind its PUB")
	}
}

// onMessage records a client message and sends the handler's replies.
func (f *fakeProxy) onMessage(frames [][]byte) {
	identity := frames[0]
	m, err := protocol.Parse(frames[1:])
	f.mu.Lock()
	f.identities[string(identity)] = true
	if err == nil {
		f.types[m.Type]++
	}
	f.mu.Unlock()
	if err != nil {
		return
	}
	for _, r := range f.handle(f, m) {
		f.router.SendMessageDontwait(identity, r)
	}
}

// publish sends a raw message on the fake's PUB socket.
func (f *fakeProxy) publish(frames ...[]byte) {
	f.toPublish <- frames
	f.bell.Ring()
}

// connections is how many client identities the fake has seen: a client
// that reconnects comes back with a new one.
func (f *fakeProxy) connections() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.identities)
}

// count is how many messages of type typ the fake has received.
func (f *fakeProxy) count(typ protocol.Type) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.types[typ]
}

// welcome is the fake's answer to a Hello.
func (f *fakeProxy) welcome(m protocol.Message) [][]byte {
	w, err := protocol.NewWelcome(m.RequestID, 1, protocol.WelcomeBody{
		PubEndpoint: f.pubEndpoint,
		Endpoints:   []string{f.endpoint},
		Now:         uint64(time.Now().UnixMilli()),
	})
	if err != nil {
		panic(err)
	}
	return w.Frames()
}
