package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"shoplist/internal/dealer"
	"shoplist/protocol"
)

// pipelineTries is how many times a setup request is sent before the
// setup gives up: a cluster that cannot take a write three times in a row
// is not worth benchmarking.
const pipelineTries = 3

// ErrSetup means a setup or verification request failed every try.
var ErrSetup = errors.New("loadgen: setup request failed")

// pipeline sends many independent requests fast: workers DEALER sockets,
// each owned by its own goroutine with up to window requests outstanding.
// A worker's socket is a dealer.Conn, but with many requests in flight it
// does not Call: it Sends, Receives whatever reply comes, matches it to its
// request by ID, and resends a request whose reply is late (a late reply
// then matches nothing and is dropped).
type pipeline struct {
	endpoint string
	timeout  time.Duration
	workers  int
	window   int
	progress io.Writer // nil: quiet
	what     string    // for progress lines, e.g. "preload"
}

// job is one request of a pipeline: build returns its message (the request
// ID is set by the pipeline); done gets the reply and may reject it.
type job struct {
	build func() protocol.Message
	done  func(reply protocol.Message) error
}

// outstanding is a request in flight.
type outstanding struct {
	index int
	job   job
	tries int
	sent  time.Time
}

// run sends jobs(i) for every i in [0, n) and returns once all are done, or
// the first failure.
func (p pipeline) run(ctx context.Context, n int, jobs func(i int) job) error {
	var next, finished atomic.Int64
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var workers sync.WaitGroup
	for range p.workers {
		workers.Go(func() {
			if err := p.worker(ctx, n, jobs, &next, &finished); err != nil {
				cancel(err)
			}
		})
	}
	stop := make(chan struct{})
	var reporter sync.WaitGroup
	if p.progress != nil && n > 0 {
		reporter.Go(func() { p.report(stop, n, &finished) })
	}
	workers.Wait()
	close(stop)
	reporter.Wait()
	return context.Cause(ctx)
}

// report prints progress once a second until stop is closed.
func (p pipeline) report(stop <-chan struct{}, n int, finished *atomic.Int64) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	start := time.Now()
	for {
		select {
		case <-stop:
			fmt.Fprintf(p.progress, "%s: %d/%d in %.1fs\n", p.what, finished.Load(), n, time.Since(start).Seconds())
			return
		case <-t.C:
			fmt.Fprintf(p.progress, "%s: %d/%d\n", p.what, finished.Load(), n)
		}
	}
}

// worker owns one DEALER; it takes job indexes from next until n.
func (p pipeline) worker(ctx context.Context, n int, jobs func(int) job, next, finished *atomic.Int64) error {
	c, err := dealer.DialConn(p.endpoint, p.timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	inflight := map[uint64]outstanding{}
	send := func(o outstanding) error {
		id, err := c.Send(o.job.build())
		if err != nil {
			return fmt.Errorf("loadgen: %s: %w", p.what, err)
		}
		o.tries++
		o.sent = time.Now()
		inflight[id] = o
		return nil
	}
	retry := func(o outstanding, why error) error {
		if o.tries >= pipelineTries {
			return fmt.Errorf("%w: %s request %d: %d tries, last: %w", ErrSetup, p.what, o.index, o.tries, why)
		}
		return send(o)
	}
	lastExpiry := time.Now()
	for {
		if time.Since(lastExpiry) >= dealer.RecvSlice {
			lastExpiry = time.Now()
			if err := p.expire(inflight, retry); err != nil {
				return err
			}
		}
		for len(inflight) < p.window {
			i := int(next.Add(1) - 1)
			if i >= n {
				break
			}
			if err := send(outstanding{index: i, job: jobs(i)}); err != nil {
				return err
			}
		}
		if len(inflight) == 0 {
			return nil
		}
		reply, err := c.Receive(ctx, time.Now())
		switch {
		case errors.Is(err, dealer.ErrTimeout):
			continue // check for expired requests
		case err != nil:
			return fmt.Errorf("loadgen: %s: %w", p.what, err)
		}
		o, ok := inflight[reply.RequestID]
		if !ok {
			continue // late reply to a request already resent
		}
		delete(inflight, reply.RequestID)
		err = reply.Err()
		if err == nil {
			err = o.job.done(reply)
		}
		if err != nil {
			if err := retry(o, err); err != nil {
				return err
			}
			continue
		}
		finished.Add(1)
	}
}

// expire resends the requests outstanding for longer than the timeout.
func (p pipeline) expire(inflight map[uint64]outstanding, retry func(outstanding, error) error) error {
	now := time.Now()
	for id, o := range inflight {
		if now.Sub(o.sent) > p.timeout {
			delete(inflight, id)
			if err := retry(o, dealer.ErrTimeout); err != nil {
				return err
			}
		}
	}
	return nil
}

// pushJob returns the job that pushes body as a state of list and calls
// acked once the proxy acknowledges it.
func pushJob(list uuid.UUID, body []byte, acked func()) job {
	return job{
		build: func() protocol.Message { return protocol.NewPush(0, list, body) },
		done: func(reply protocol.Message) error {
			if reply.Type != protocol.TypeOK {
				return fmt.Errorf("%w: %v to Push", dealer.ErrUnexpectedReply, reply.Type)
			}
			acked()
			return nil
		},
	}
}
