package loadgen

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	zmq "github.com/pebbe/zmq4"

	"shoplist/internal/dealer"
)

// The raw mode measures the plain ZeroMQ ceiling of this machine for the
// cluster's request pattern: the same synchronous DEALER clients talk to a
// proxy-like ROUTER that forwards every request to 3 echo workers over a
// backend ROUTER and answers the client after 2 of the 3 echoes. No disk, no
// decoding, no ring: whatever the cluster does beyond this is the cost of
// its logic.
const (
	rawWorkers = 3
	rawQuorum  = 2
)

// rawReady is the frame a raw worker sends to announce itself.
const rawReady = "ready"

// RawConfig configures RunRaw.
type RawConfig struct {
	Clients  int
	Duration time.Duration // measured time
	Warmup   time.Duration // unmeasured time before it
	Timeout  time.Duration // per request
	Frames   [][]byte      // what each client sends: a real Push's [header][body]
}

// RawResult is the outcome of RunRaw.
type RawResult struct {
	Hist   Histogram
	Window time.Duration
	Errors int // requests that timed out
}

// RunRaw starts the raw proxy and workers on loopback ephemeral ports, runs
// the clients, stops everything and waits for every goroutine it started.
func RunRaw(ctx context.Context, cfg RawConfig) (*RawResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	front, back, err := bindPair()
	if err != nil {
		return nil, err
	}
	frontEP, err1 := front.GetLastEndpoint()
	backEP, err2 := back.GetLastEndpoint()
	if err := errors.Join(err1, err2); err != nil {
		front.Close()
		back.Close()
		return nil, fmt.Errorf("loadgen: raw endpoints: %w", err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 1+rawWorkers+cfg.Clients)
	ready := make(chan struct{})
	report := func(err error) {
		if err != nil {
			errs <- err
		}
	}
	wg.Go(func() { report(rawRouter(ctx, front, back, ready)) })
	for i := range rawWorkers {
		wg.Go(func() { report(rawWorker(ctx, backEP, fmt.Sprintf("w%d", i))) })
	}
	defer wg.Wait() // after cancel (deferred first, runs last)
	defer cancel()
	select {
	case <-ready:
	case err := <-errs:
		return nil, fmt.Errorf("loadgen: raw setup: %w", err)
	case <-time.After(10 * time.Second):
		return nil, fmt.Errorf("%w: raw workers did not register within 10s", ErrSetup)
	}

	start := time.Now()
	measureFrom, end := start.Add(cfg.Warmup), start.Add(cfg.Warmup+cfg.Duration)
	hists := make([]Histogram, cfg.Clients)
	fails := make([]int, cfg.Clients)
	var clients sync.WaitGroup
	for i := range cfg.Clients {
		clients.Go(func() { report(rawClient(ctx, frontEP, cfg, measureFrom, end, &hists[i], &fails[i])) })
	}
	clients.Wait()
	res := &RawResult{Window: cfg.Duration}
	for i := range hists {
		res.Hist.Merge(&hists[i])
		res.Errors += fails[i]
	}
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	return res, nil
}

// bindPair binds the raw proxy's frontend and backend ROUTERs.
func bindPair() (front, back *zmq.Socket, err error) {
	bind := func() (*zmq.Socket, error) {
		s, err := zmq.NewSocket(zmq.ROUTER)
		if err != nil {
			return nil, err
		}
		if err := errors.Join(s.SetLinger(0), s.SetRcvhwm(0), s.SetSndhwm(0), s.Bind("tcp://127.0.0.1:*")); err != nil {
			s.Close()
			return nil, err
		}
		return s, nil
	}
	if front, err = bind(); err != nil {
		return nil, nil, fmt.Errorf("loadgen: raw frontend: %w", err)
	}
	if back, err = bind(); err != nil {
		front.Close()
		return nil, nil, fmt.Errorf("loadgen: raw backend: %w", err)
	}
	return front, back, nil
}

// rawRequest is a client request waiting for its echoes.
type rawRequest struct {
	client [][]byte // identity and header frames to answer with
	acks   int
}

// rawRouter owns both ROUTER sockets and runs one poll loop: a client
// request goes to every worker with a sequence number; the second echo
// answers the client with its header and an empty body, like an OK. ready
// is closed once all workers have announced themselves.
func rawRouter(ctx context.Context, front, back *zmq.Socket, ready chan<- struct{}) error {
	defer front.Close()
	defer back.Close()
	poller := zmq.NewPoller()
	poller.Add(front, zmq.POLLIN)
	poller.Add(back, zmq.POLLIN)
	var workers [][]byte
	inflight := map[uint64]*rawRequest{}
	var seq uint64
	for ctx.Err() == nil {
		polled, err := poller.Poll(dealer.RecvSlice)
		if err != nil {
			if zmq.AsErrno(err) == zmq.Errno(syscall.EINTR) { // a signal: poll again
				continue
			}
			return fmt.Errorf("loadgen: raw poll: %w", err)
		}
		for _, p := range polled {
			for range rawBatch {
				frames, err := p.Socket.RecvMessageBytes(zmq.DONTWAIT)
				if err != nil {
					break // drained
				}
				if p.Socket == back {
					workers = rawFromWorker(front, frames, workers, inflight, ready)
					continue
				}
				if len(frames) != 3 || len(workers) < rawWorkers {
					continue // [identity][header][body] only, once the workers are in
				}
				seq++
				inflight[seq] = &rawRequest{client: frames[:2]}
				var tag [8]byte
				binary.BigEndian.PutUint64(tag[:], seq)
				for _, w := range workers {
					back.SendMessage(w, tag[:], frames[2])
				}
			}
		}
	}
	return nil
}

// rawBatch bounds the messages the raw router takes from one socket before
// it looks at the other.
const rawBatch = 64

// rawFromWorker handles one message from a worker: a registration, or an
// echo that may complete a request.
func rawFromWorker(front *zmq.Socket, frames [][]byte, workers [][]byte, inflight map[uint64]*rawRequest, ready chan<- struct{}) [][]byte {
	switch {
	case len(frames) == 2 && string(frames[1]) == rawReady:
		workers = append(workers, frames[0])
		if len(workers) == rawWorkers {
			close(ready)
		}
	case len(frames) == 3 && len(frames[1]) == 8:
		id := binary.BigEndian.Uint64(frames[1])
		r := inflight[id]
		if r == nil {
			return workers // the third echo
		}
		if r.acks++; r.acks == rawQuorum {
			front.SendMessage(r.client, []byte{})
			delete(inflight, id)
		}
	}
	return workers
}

// rawWorker owns one DEALER connected to the backend and echoes every
// message it receives.
func rawWorker(ctx context.Context, backend, id string) error {
	s, err := dealer.Dial(backend, dealer.Options{Identity: id, RecvTimeout: dealer.RecvSlice})
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.Send(rawReady, 0); err != nil {
		return fmt.Errorf("loadgen: raw worker: %w", err)
	}
	for ctx.Err() == nil {
		frames, err := dealer.Recv(ctx, s, time.Now())
		switch {
		case err == nil:
		case errors.Is(err, dealer.ErrTimeout), ctx.Err() != nil, errors.Is(err, zmq.Errno(syscall.EINTR)):
			continue // a timeout slice, a signal, or the context ending
		default:
			return fmt.Errorf("loadgen: raw worker: %w", err)
		}
		if _, err := s.SendMessage(frames); err != nil {
			return fmt.Errorf("loadgen: raw worker: %w", err)
		}
	}
	return nil
}

// rawClient is one synchronous raw client, like a load client's loop. A
// request that times out is counted and the client reconnects with a fresh
// socket, so that its late reply cannot answer the next request.
//
// It stays raw on purpose: it sends the same frames every time (one
// request ID, no numbering) and neither parses nor matches the replies,
// which is what a dealer.Conn would add. What it shares with a load client
// is the socket (dealer.Dial with the options of a dealer.Conn) and the
// receive (dealer.Recv), so the ceiling is measured on equal terms.
func rawClient(ctx context.Context, endpoint string, cfg RawConfig, measureFrom, end time.Time, h *Histogram, fails *int) error {
	for time.Now().Before(end) {
		timedOut, err := rawSession(ctx, endpoint, cfg, measureFrom, end, h)
		if err != nil {
			return err
		}
		if timedOut {
			*fails++
		}
	}
	return nil
}

// rawSession runs requests on one socket until end or a timeout.
func rawSession(ctx context.Context, endpoint string, cfg RawConfig, measureFrom, end time.Time, h *Histogram) (timedOut bool, err error) {
	s, err := dealer.Dial(endpoint, dealer.Options{RecvTimeout: dealer.RecvSlice})
	if err != nil {
		return false, err
	}
	defer s.Close()
	for {
		now := time.Now()
		if !now.Before(end) {
			return false, nil
		}
		if _, err := s.SendMessage(cfg.Frames); err != nil {
			return false, fmt.Errorf("loadgen: raw client: %w", err)
		}
		_, err := dealer.Recv(ctx, s, now.Add(cfg.Timeout))
		switch {
		case errors.Is(err, dealer.ErrTimeout):
			return true, nil
		case err != nil:
			return false, err
		}
		if !now.Before(measureFrom) {
			h.Record(time.Since(now))
		}
	}
}
