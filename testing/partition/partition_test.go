//go:build partition

package partition

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"shoplist/testing/converge"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain runs a client group when the test re-executes its binary as
// one (driver.go).
func TestMain(m *testing.M) {
	if raw := os.Getenv(driverEnv); raw != "" {
		os.Exit(driverMain(raw))
	}
	os.Exit(m.Run())
}

// The network: every proxy, server and client group in a namespace of its
// own, each with an address of its own.
var (
	proxyHosts  = []host{{"p0", subnet + "10"}, {"p1", subnet + "11"}, {"p2", subnet + "12"}}
	serverHosts = []host{{"s0", subnet + "20"}, {"s1", subnet + "21"}, {"s2", subnet + "22"}, {"s3", subnet + "23"}, {"s4", subnet + "24"}}
	spareHost   = host{"s5", subnet + "25"}
	groupHosts  = []host{{"c0", subnet + "30"}, {"c1", subnet + "31"}, {"c2", subnet + "32"}}
)

// The load: ten writers in three groups, each group homed at one proxy,
// and one device per group.
var groupWriters = []int{4, 3, 3}

const (
	privateLists = 3                      // each writer's own
	sharedLists  = 2                      // every writer and device writes to them
	items        = 10                     // per list
	writerPace   = 20 * time.Millisecond  // a writer's pause after each push
	devicePace   = 100 * time.Millisecond // a device's pause after each edit
	warmUp       = 2 * time.Second        // writing before the first partition
	afterHeal    = 3 * time.Second        // writing after the heal
)

// settings are the environment's tuning (see the package doc).
type settings struct {
	duration, flap, converge time.Duration
	seed                     uint64
	schedules                map[int]bool // nil: all
	keep, bin                string
}

func readSettings(t *testing.T) settings {
	t.Helper()
	s := settings{
		duration: converge.EnvDuration(t, "PARTITION_DURATION", 15*time.Second),
		flap:     converge.EnvDuration(t, "PARTITION_FLAP", 20*time.Second),
		converge: converge.EnvDuration(t, "PARTITION_CONVERGE", 3*time.Minute),
		seed:     uint64(time.Now().UnixNano()),
		keep:     os.Getenv("PARTITION_KEEP"),
		bin:      os.Getenv("PARTITION_BIN"),
	}
	if v := os.Getenv("PARTITION_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("PARTITION_SEED=%q: %v", v, err)
		}
		s.seed = n
	}
	if v := os.Getenv("PARTITION_SCHEDULES"); v != "" {
		s.schedules = map[int]bool{}
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 || n > len(schedules) {
				t.Fatalf("PARTITION_SCHEDULES=%q: want schedule numbers from 1 to %d", v, len(schedules))
			}
			s.schedules[n] = true
		}
	}
	if s.bin == "" {
		root, err := moduleRoot()
		if err != nil {
			t.Fatal(err)
		}
		s.bin = filepath.Join(root, "bin")
	}
	for _, b := range []string{"proxy", "server"} {
		if _, err := os.Stat(filepath.Join(s.bin, b)); err != nil {
			t.Fatalf("the %s binary: %v (run make build, or give PARTITION_BIN)", b, err)
		}
	}
	return s
}

// moduleRoot returns the directory holding go.mod, above the test's.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for range 10 {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		dir = filepath.Dir(dir)
	}
	return "", errors.New("no go.mod above the test's directory")
}

// requireNetns skips the test where it cannot make network namespaces:
// not root, no ip command, or namespaces refused.
func requireNetns(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("partition: skipped: it needs root, to make network namespaces, veths and bridges (run make partition as root)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("partition: skipped: no ip command (iproute2; make partition installs it)")
	}
	ctx := context.Background()
	probe := prefix + "probe"
	_ = ip(ctx, "netns", "del", probe)
	if err := ip(ctx, "netns", "add", probe); err != nil {
		t.Skipf("partition: skipped: this machine refuses network namespaces: %v", err)
	}
	if err := ip(ctx, "netns", "del", probe); err != nil {
		t.Fatal(err)
	}
}

// lockMachine takes a lock that keeps two partition tests from sharing
// the machine's namespaces, waiting up to 15 minutes for another run.
func lockMachine(t *testing.T) {
	t.Helper()
	path := filepath.Join(os.TempDir(), "shoplist-partition.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Minute)
	for said := false; ; {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			t.Fatalf("locking %s: %v", path, err)
		}
		if !said {
			t.Logf("partition: another run holds %s; waiting for it", path)
			said = true
		}
		time.Sleep(time.Second) // polling a lock another process holds
	}
	t.Cleanup(func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	})
}

// logFile is the run's log: every process's output and the test's own
// lines, serialised.
type logFile struct {
	mu sync.Mutex
	f  *os.File
}

func (l *logFile) line(prefix, s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.f, "%s %s%s\n", time.Now().Format("15:04:05.000"), prefix, s)
}

func TestPartition(t *testing.T) {
	requireNetns(t)
	st := readSettings(t)
	lockMachine(t)
	ctx := context.Background()
	if err := removeLeftovers(ctx); err != nil {
		t.Fatalf("removing what an earlier run left: %v", err)
	}
	data, logPath := st.keep, filepath.Join(st.keep, "partition.log")
	if st.keep == "" {
		data = t.TempDir()
		logPath = filepath.Join(os.TempDir(), fmt.Sprintf("shoplist-partition-%d.log", st.seed))
	} else if err := os.MkdirAll(st.keep, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	log := &logFile{f: f}
	t.Cleanup(func() {
		f.Close()
		switch {
		case t.Failed():
			t.Logf("the log: %s (PARTITION_SEED=%d replays the schedules)", logPath, st.seed)
		case st.keep == "":
			os.Remove(logPath)
		}
	})
	t.Logf("partition: seed %d, partitions of %v, flapping for %v, data in %s, log in %s", st.seed, st.duration, st.flap, data, logPath)

	hosts := append(append(append(append([]host(nil), proxyHosts...), serverHosts...), spareHost), groupHosts...)
	net, err := newNetwork(ctx, hosts)
	t.Cleanup(func() {
		if err := removeLeftovers(context.Background()); err != nil {
			t.Errorf("tearing the network down: %v", err)
		}
	})
	if err != nil {
		t.Fatalf("making the network: %v", err)
	}

	var figs []figures
	for _, s := range schedules {
		if st.schedules != nil && !st.schedules[s.number] {
			continue
		}
		t.Run(fmt.Sprintf("%d-%s", s.number, s.name), func(t *testing.T) {
			fig := &figures{number: s.number, name: s.name, seed: st.seed + uint64(s.number)}
			defer func() { // also when the schedule stops at a fatal failure
				fig.ok = !t.Failed()
				figs = append(figs, *fig)
			}()
			runSchedule(t, st, net, log, filepath.Join(data, fmt.Sprintf("schedule-%d", s.number)), s, fig)
		})
	}
	t.Logf("partition figures (seed %d):", st.seed)
	for _, line := range summary(figs) {
		t.Log(line)
	}
}
