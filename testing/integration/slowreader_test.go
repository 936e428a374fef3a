package integration

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"shoplist/cluster/launcher"
	"shoplist/crdt"
	"shoplist/internal/bytesize"
	"shoplist/protocol"
)

// The slow reader: clients that pull a large list again and again and
// never read a reply. Every reply the proxy answers them with waits in
// ZeroMQ's queue toward them, so before the proxy counted bytes this grew
// its memory by a list's size per pull, past any bound, until a normal
// client's requests failed. Now the proxy refuses what would pass its
// memory budget, and the test watches the proxy process's resident memory
// (VmRSS) stay under the budget while a normal client's pushes are
// acknowledged throughout (each sent again, as a client would, if it
// fails, at most twice).

// Figures of the attack. The budget is small so that the attack reaches it
// within a second or two; the list is near the largest a list may be.
const (
	slowBudget      = 128 << 20
	slowAttackers   = 4                // connections that never read
	slowBurst       = 16               // Pulls each sends per round
	slowAttack      = 12 * time.Second // how long the attack lasts
	slowSampleEvery = 20 * time.Millisecond
)

// TestASlowReaderCannotGrowTheProxyPastItsBudget: four connections send
// Pulls of a 3.8 MiB list as fast as they can for 12 s and read nothing;
// the proxy's resident memory stays under its 128 MiB budget, sampled
// every 20 ms, and a normal client's pushes, one after another, are each
// acknowledged. The proxy and servers are processes of a binary built
// without the race detector: its shadow memory would make the proxy's
// resident size say nothing about the proxy.
func TestASlowReaderCannotGrowTheProxyPastItsBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the service and runs a 12 s attack")
	}
	big := largeReplica(t)
	exe := buildService(t)
	c := launchWith(t, launcher.Config{Servers: 3, Exe: exe,
		ProxyArgs: []string{"--memory-budget", bytesize.Format(slowBudget)}})
	pid := c.Proxies()[0].PID

	owner := dial(t, c.ClientEndpoint())
	must(t, owner.push(big.id(), big.state()))
	normal := dial(t, c.ClientEndpoint())
	mine := pushNew(t, normal, "the week's shopping")
	if l, err := owner.pull(big.id()); err != nil || l == nil {
		t.Fatalf("the large list does not read back: %v", err)
	}
	baseline := readRSS(t, pid)

	rss := watchRSS(t, pid, 2*slowBudget)
	attackers := make([]*zmq.Socket, slowAttackers)
	for i := range attackers {
		attackers[i] = slowReader(t, c.ClientEndpoint())
	}
	var pulls int
	var id uint64
	pushes, acked, retried := 0, 0, 0
	for end := time.Now().Add(slowAttack); time.Now().Before(end) && !rss.over.Load(); {
		for _, a := range attackers {
			for range slowBurst {
				id++
				if _, err := a.SendMessageDontwait(protocol.NewPull(id, big.id()).Frames()); err == nil {
					pulls++
				}
			}
		}
		delta, err := mine.add(fmt.Sprintf("item %d", pushes), 1)
		must(t, err)
		pushes++
		// As a client does, it sends an edit again until it is
		// acknowledged; three tries in a row failing is a client starved.
		for try := 1; ; try++ {
			err := normal.push(mine.id(), delta)
			if err == nil {
				acked++
				break
			}
			if try == 3 {
				t.Errorf("push %d of the normal client during the attack, tried 3 times: %v", pushes, err)
				break
			}
			retried++
		}
	}
	peak, samples := rss.stop()
	final := readRSS(t, pid)
	t.Logf("proxy RSS: %s before the attack, peak %s over %d samples, %s after; budget %s; %d Pulls sent by %d connections that never read; %d of %d pushes of a normal client acknowledged (%d sent again)",
		bytesize.Human(baseline), bytesize.Human(peak), samples, bytesize.Human(final), bytesize.Human(slowBudget),
		pulls, slowAttackers, acked, pushes, retried)
	if st, err := proxyStatus(c); err == nil {
		k := st.Counters
		t.Logf("proxy counters: %d pulls, %d requests refused for memory, %d answers or replies dropped, %s counted of %s now, %d client accounts",
			k.Pulls, k.MemoryRefused, k.MemoryDropped, bytesize.Human(k.MemoryHeld), bytesize.Human(k.MemoryLimit), k.Clients)
	}
	if peak > slowBudget {
		t.Fatalf("the proxy's resident memory reached %s, past its budget of %s", bytesize.Human(peak), bytesize.Human(slowBudget))
	}
	if acked == 0 || acked != pushes {
		t.Fatalf("%d of the normal client's %d pushes were acknowledged during the attack", acked, pushes)
	}
	got, err := normal.pull(mine.id())
	must(t, err)
	if missing := missingItems(got, mine.list.ItemKeys()); len(missing) > 0 {
		t.Fatalf("the normal client's list lacks %d acknowledged items: %v", len(missing), missing)
	}
}

// largeReplica returns a list of about 3.8 MiB encoded: the most items a
// list may hold, with long names, notes and categories.
func largeReplica(t *testing.T) *replica {
	t.Helper()
	r := newReplica(t, "large")
	for i := range crdt.MaxItems {
		name := fmt.Sprintf("%05d %s", i, strings.Repeat("x", 190))
		must(t, r.list.Add(r.clock, name, 1))
		must(t, r.list.SetNote(r.clock, name, strings.Repeat("n", 200)))
		must(t, r.list.SetCategory(r.clock, name, strings.Repeat("c", 64)))
	}
	if n := len(r.state()); n < 3<<20 || n > protocol.MaxListSize {
		t.Fatalf("the large list is %d bytes", n)
	}
	return r
}

// slowReader returns a DEALER connected to endpoint that is never read:
// ZeroMQ takes one message off the connection for it and then stops
// reading, so the proxy's replies pile up on the proxy's side.
func slowReader(t *testing.T, endpoint string) *zmq.Socket {
	t.Helper()
	s := newSocket(t, zmq.DEALER)
	must(t, s.SetRcvhwm(1))
	must(t, s.SetRcvbuf(16<<10))
	connect(t, s, endpoint)
	return s
}

// buildService builds cmd/service without the race detector into a
// temporary directory and returns its path, for launcher.Config.Exe.
func buildService(t *testing.T) string {
	t.Helper()
	exe := filepath.Join(t.TempDir(), "service")
	cmd := exec.Command("go", "build", "-o", exe, "shoplist/cmd/service")
	cmd.Env = append(os.Environ(), "GOFLAGS=") // whatever flags the tests run with, a plain build
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the service: %v\n%s", err, out)
	}
	return exe
}

// readRSS returns the resident memory of process pid, from
// /proc/PID/status.
func readRSS(t *testing.T, pid int) int64 {
	t.Helper()
	n, err := rssOf(pid)
	must(t, err)
	return n
}

// rssOf returns the VmRSS of process pid in bytes.
func rssOf(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("VmRSS of %d: %q: %w", pid, rest, err)
		}
		return kb << 10, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// rssWatch samples a process's resident memory on a goroutine of its own
// and keeps the peak; over is set once it passes a limit, for the attack
// to stop early (a proxy without a budget would otherwise grow until the
// machine runs out).
type rssWatch struct {
	over atomic.Bool
	stop func() (peak int64, samples int)
}

// watchRSS starts sampling pid's resident memory every slowSampleEvery.
func watchRSS(t *testing.T, pid int, limit int64) *rssWatch {
	t.Helper()
	w := &rssWatch{}
	done := make(chan struct{})
	var wg sync.WaitGroup
	var peak int64
	samples := 0
	var sampleErr error
	wg.Go(func() {
		tick := time.NewTicker(slowSampleEvery)
		defer tick.Stop()
		for {
			n, err := rssOf(pid)
			if err != nil {
				sampleErr = err
				return
			}
			samples++
			peak = max(peak, n)
			if n > limit {
				w.over.Store(true)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	var once sync.Once
	w.stop = func() (int64, int) {
		once.Do(func() { close(done); wg.Wait() })
		if sampleErr != nil {
			t.Fatalf("sampling the proxy's memory: %v", sampleErr)
		}
		return peak, samples
	}
	t.Cleanup(func() { w.stop() })
	return w
}
