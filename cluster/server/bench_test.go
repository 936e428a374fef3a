package server

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	zmq "github.com/pebbe/zmq4"

	"shoplist/crdt"
	"shoplist/internal/curvekey"
	"shoplist/protocol"
)

// Server benchmarks: one server, driven over loopback TCP by a proxy-like
// ROUTER in the benchmark goroutine that keeps benchWindow requests in
// flight (as the proxy does for many clients), over benchLists stored lists
// of benchItems items each. They measure what one server process can serve;
// the proxy, the clients and the other four servers of a cluster share the
// same two cores in the real deployment.
const (
	benchLists  = 1000
	benchItems  = 30
	benchWindow = 64
)

// BenchmarkServerStore: each request stores a one-item delta (one more of
// an existing item) into a random stored list.
func BenchmarkServerStore(b *testing.B) {
	bx := newBenchServer(b)
	c := crdt.NewClock(uuid.New())
	rng := rand.New(rand.NewPCG(1, 2))
	bx.run(b, func(id uint64) protocol.Message {
		l := bx.lists[rng.IntN(len(bx.lists))]
		before := l.MaxStamp()
		if err := l.Add(c, fmt.Sprintf("item %02d", rng.IntN(benchItems)), 1); err != nil {
			b.Fatal(err)
		}
		return protocol.NewStore(id, 0, l.ID(), l.Delta(before).Encode())
	})
}

// BenchmarkServerFetch: each request fetches a random stored list.
func BenchmarkServerFetch(b *testing.B) {
	bx := newBenchServer(b)
	rng := rand.New(rand.NewPCG(1, 2))
	bx.run(b, func(id uint64) protocol.Message {
		return protocol.NewFetch(id, 0, bx.lists[rng.IntN(len(bx.lists))].ID())
	})
}

type benchServer struct {
	p     *fakeProxy
	lists []*crdt.List
}

// newBenchServer starts a welcomed server holding benchLists lists.
func newBenchServer(b *testing.B) *benchServer {
	sock, err := zmq.NewSocket(zmq.ROUTER)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sock.Close() })
	sock.SetLinger(0)
	sock.SetRouterHandover(true)
	key := newKeyPair(b) // a CURVE backend, as in a deployment
	sock.SetCurveServer(1)
	sock.SetCurveSecretkey(key.Secret)
	if err := sock.Bind("tcp://127.0.0.1:*"); err != nil {
		b.Fatal(err)
	}
	ep, _ := sock.GetLastEndpoint()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := Start(context.Background(), Config{Dir: b.TempDir(), Proxies: []string{curvekey.JoinEndpoint(ep, key.Public)}, Heartbeat: time.Hour, Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	frames, err := sock.RecvMessageBytes(0) // the hello
	if err != nil {
		b.Fatal(err)
	}
	identity := frames[0]
	hello, _ := protocol.Parse(frames[1:])
	sock.SendMessage(identity, protocol.NewServerWelcome(hello.RequestID, 1).Frames())

	bx := &benchServer{p: &fakeProxy{sock: sock, server: identity}}
	c := crdt.NewClock(uuid.New())
	for i := range benchLists {
		l, err := crdt.New(c, fmt.Sprintf("list %d", i))
		if err != nil {
			b.Fatal(err)
		}
		for j := range benchItems {
			for range 3 { // three replicas' slots, as on a shared list
				if err := l.Add(crdt.NewClock(uuid.New()), fmt.Sprintf("item %02d", j), 1); err != nil {
					b.Fatal(err)
				}
			}
		}
		if _, err := s.Store().SaveMerge(l); err != nil {
			b.Fatal(err)
		}
		bx.lists = append(bx.lists, l)
	}
	return bx
}

// run sends b.N requests made by next, all made before the clock starts,
// keeping benchWindow in flight. It reports requests per second, and the
// process's CPU time per request (the server's, plus the benchmark's own
// sending and receiving, which stands in for the proxy's).
func (bx *benchServer) run(b *testing.B, next func(id uint64) protocol.Message) {
	sock, identity := bx.p.sock, bx.p.server
	reqs := make([]protocol.Message, b.N)
	for i := range reqs {
		reqs[i] = next(uint64(i + 1))
	}
	sent, done := 0, 0
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for done < b.N {
		for sent < b.N && sent-done < benchWindow {
			if _, err := sock.SendMessage(identity, reqs[sent].Frames()); err != nil {
				b.Fatal(err)
			}
			sent++
		}
		frames, err := sock.RecvMessageBytes(0)
		if err != nil {
			b.Fatal(err)
		}
		m, err := protocol.Parse(frames[1:])
		if err != nil || m.Type == protocol.TypeError {
			b.Fatalf("reply %v: %v %v", m.Type, err, m.Err())
		}
		if m.Type != protocol.TypeHeartbeat {
			done++
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/req")
}

// cpuTime returns the CPU time (user and system) the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
