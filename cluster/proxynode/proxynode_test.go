package proxynode

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"shoplist/cluster/admin"
	"shoplist/cluster/membership"
	"shoplist/internal/curvekey"
	"shoplist/protocol"
)

const testTimeout = 10 * time.Second

// syncBuffer is a bytes.Buffer safe for Main's writes and the test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}

// running is a proxy run by Main in the background.
type running struct {
	fields map[string]string // of the ready line
	stop   func() int        // cancels Main and returns its exit code
}

// runMain runs Main on data with free ports and the extra flags, and
// waits for its ready line.
func runMain(t *testing.T, data string, extra ...string) running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int, 1)
	args := append([]string{"--listen", "127.0.0.1:0", "--data", data, "--log-level", "error"}, extra...)
	go func() {
		done <- Main(ctx, args, &out, &errOut)
	}()
	stop := func() int {
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(testTimeout):
			t.Fatal("Main did not stop")
			return -1
		}
	}
	deadline := time.Now().Add(testTimeout)
	for !strings.Contains(out.String(), "\n") {
		select {
		case code := <-done:
			t.Fatalf("Main exited %d before it was ready: %s", code, errOut.String())
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("no ready line; stderr %q", errOut.String())
		}
	}
	line := strings.TrimSpace(out.String())
	rest, ok := strings.CutPrefix(line, "proxy ready: ")
	if !ok {
		t.Fatalf("ready line %q", line)
	}
	// fields holds each field's value, an endpoint's without its key,
	// which fields[NAME+"#key"] holds.
	fields := map[string]string{}
	for _, f := range strings.Fields(rest) {
		k, v, _ := strings.Cut(f, "=")
		fields[k] = v
		if k == "client" || k == "pub" || k == "backend" {
			ep, key, err := curvekey.SplitEndpoint(v)
			must(t, err)
			fields[k], fields[k+"#key"] = ep, key
		}
	}
	if fields["backend"] == "" || fields["backend#key"] == "" || fields["raft"] == "" || fields["admin"] == "" || fields["client"] == "" {
		t.Fatalf("ready line %q lacks client, backend with its key, raft or admin", line)
	}
	if fields["client#key"] != fields["backend#key"] || fields["pub#key"] != fields["backend#key"] {
		t.Fatalf("ready line %q: want the proxy's one key on the client, PUB and backend endpoints", line)
	}
	t.Cleanup(func() { cancel() })
	return running{fields: fields, stop: stop}
}

// server is a storage server played by a test: its ID and key pair.
type server struct {
	id  string
	key curvekey.Pair
}

// admitted admits server id with a fresh key through `proxy admit` at
// p's admin API, with the operator credentials in data (the founder's
// data directory), and returns it once p has the admission: the command
// returns once the leader has committed it, and a connection p refuses is
// not tried again (libzmq drops an endpoint whose handshake was refused;
// a real server opens a new socket after Liveness silent intervals).
func admitted(t *testing.T, p running, data, id string) server {
	t.Helper()
	s := server{id: id, key: newKey(t)}
	if code, stderr := admitCommand(t, p, data, s); code != 0 {
		t.Fatalf("proxy admit --id %s: exit %d: %s", id, code, stderr)
	}
	waitStatus(t, operator(t, data), p.fields["admin"], id+" admitted", func(st admin.Status) bool {
		return slices.Contains(st.Membership.Admitted, membership.Admitted{ID: id, Key: s.key.Public})
	})
	return s
}

// admitCommand runs `proxy admit` for s at p and returns its exit code
// and stderr.
func admitCommand(t *testing.T, p running, data string, s server) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	var out, errOut bytes.Buffer
	code := Main(ctx, []string{"admit", "--id", s.id, "--key", s.key.Public, "--admin", p.fields["admin"], "--data", data}, &out, &errOut)
	return code, errOut.String()
}

func newKey(t *testing.T) curvekey.Pair {
	t.Helper()
	k, err := curvekey.Generate()
	must(t, err)
	return k
}

// hello says hello as s to p's backend, pinning p's backend key, and
// returns the reply.
func hello(t *testing.T, p running, s server) protocol.Message {
	t.Helper()
	sock, err := zmq.NewSocket(zmq.DEALER)
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	sock.SetLinger(0)
	must(t, sock.SetIdentity(s.id+"/test"))
	must(t, sock.SetCurveServerkey(p.fields["backend#key"]))
	must(t, sock.SetCurvePublickey(s.key.Public))
	must(t, sock.SetCurveSecretkey(s.key.Secret))
	must(t, sock.Connect(p.fields["backend"]))
	m, err := protocol.NewServerHello(1, 0, s.id)
	must(t, err)
	_, err = sock.SendMessage(m.Frames())
	must(t, err)
	poller := zmq.NewPoller()
	poller.Add(sock, zmq.POLLIN)
	for {
		polled, err := poller.Poll(testTimeout)
		must(t, err)
		if len(polled) == 0 {
			t.Fatalf("no answer to %s's hello", s.id)
		}
		frames, err := sock.RecvMessageBytes(0)
		must(t, err)
		reply, err := protocol.Parse(frames)
		must(t, err)
		if reply.Type != protocol.TypeHeartbeat {
			return reply
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// welcomed says hello as s and returns the epoch of its welcome.
func welcomed(t *testing.T, p running, s server) uint64 {
	t.Helper()
	m := hello(t, p, s)
	if m.Type != protocol.TypeServerWelcome {
		t.Fatalf("hello of %s: %v %v, want a welcome", s.id, m.Type, m.Err())
	}
	return m.Epoch
}

// refused checks that the removed server id cannot be admitted again.
func refused(t *testing.T, p running, data, id string) {
	t.Helper()
	code, stderr := admitCommand(t, p, data, server{id: id, key: newKey(t)})
	if code != 1 || !strings.Contains(stderr, "removed") {
		t.Fatalf("admitting removed %s: exit %d, %q", id, code, stderr)
	}
}

func TestARegistryRingIsImportedOnceAndKeptAcrossRestarts(t *testing.T) {
	data := t.TempDir()
	// The ring today's proxy leaves in its data directory: s1, s3 and s4
	// members, s2 removed, epoch 5.
	reg, err := membership.NewRegistry(filepath.Join(data, membership.RegistryFile), 40)
	must(t, err)
	ctx := context.Background()
	for _, id := range []string{"s1", "s2", "s3", "s4"} {
		must(t, reg.Join(ctx, id))
	}
	must(t, reg.Remove(ctx, "s2"))
	if reg.View().Epoch != 5 {
		t.Fatalf("registry epoch %d", reg.View().Epoch)
	}

	p := runMain(t, data)
	if e := welcomed(t, p, admitted(t, p, data, "s1")); e != 5 {
		t.Fatalf("epoch after the import %d, want the registry's 5", e)
	}
	refused(t, p, data, "s2")
	s5 := admitted(t, p, data, "s5")
	if e := welcomed(t, p, s5); e != 6 {
		t.Fatalf("epoch after a join %d, want 6", e)
	}
	if _, err := os.Stat(filepath.Join(data, membership.RegistryFile)); !os.IsNotExist(err) {
		t.Fatalf("%s still there after the import: %v", membership.RegistryFile, err)
	}
	for _, f := range []string{membership.RegistryFile + ImportedSuffix, IDFile, filepath.Join(RaftDir, "raft.db")} {
		if _, err := os.Stat(filepath.Join(data, f)); err != nil {
			t.Fatal(err)
		}
	}
	id, err := os.ReadFile(filepath.Join(data, IDFile))
	must(t, err)
	if code := p.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}

	// Restarted on the same data: the ring, its epoch and the removal
	// come from Raft (the imported file is not read again).
	must(t, os.WriteFile(filepath.Join(data, membership.RegistryFile+ImportedSuffix), []byte("not json"), 0o644))
	p = runMain(t, data)
	if e := welcomed(t, p, admitted(t, p, data, "s3")); e != 6 {
		t.Fatalf("epoch after the restart %d, want 6", e)
	}
	refused(t, p, data, "s2")
	if e := welcomed(t, p, s5); e != 6 { // admitted before the restart
		t.Fatalf("a member's hello changed the epoch to %d", e)
	}
	again, err := os.ReadFile(filepath.Join(data, IDFile))
	must(t, err)
	if !bytes.Equal(id, again) {
		t.Fatalf("proxy ID %q after the restart, was %q", again, id)
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

func TestOpenTakesTheCommittedNAndVNodes(t *testing.T) {
	data := t.TempDir()
	open := func(n, vnodes int) Opened {
		t.Helper()
		m, err := Open(context.Background(), Options{Data: data, Raft: "127.0.0.1:0", N: n, VNodes: vnodes})
		must(t, err)
		return m
	}
	m := open(1, 7)
	must(t, m.Membership.Join(context.Background(), "s1"))
	if m.N != 1 || m.Addr == "" || m.Addr == "127.0.0.1:0" {
		t.Fatalf("first open: N %d, addr %q", m.N, m.Addr)
	}
	must(t, m.Close())
	m = open(3, 40)
	defer func() { must(t, m.Close()) }()
	if m.N != 1 {
		t.Fatalf("N %d after a restart asking for 3, want the committed 1", m.N)
	}
	v := m.Membership.View()
	if !slices.Equal(v.Ring.Servers(), []string{"s1"}) || v.Epoch != 2 {
		t.Fatalf("ring %v at epoch %d after the restart", v.Ring.Servers(), v.Epoch)
	}
	if b := m.Membership.(*membership.Node).EpochBody(); b.N != 1 || b.VNodes != 7 {
		t.Fatalf("committed N = %d, vnodes = %d after a restart asking for 3, 40; want 1, 7", b.N, b.VNodes)
	}
}

func TestMainRefusesACommittedNItsQuorumsDoNotFit(t *testing.T) {
	data := t.TempDir()
	m, err := Open(context.Background(), Options{Data: data, Raft: "127.0.0.1:0", N: 1, VNodes: 4})
	must(t, err)
	must(t, m.Close())
	var out, errOut syncBuffer
	code := Main(context.Background(), []string{"--listen", "127.0.0.1:0", "--data", data, "--log-level", "error"}, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "committed N is 1") {
		t.Fatalf("defaults W = R = 2 over a committed N = 1: exit %d, stderr %q", code, errOut.String())
	}
}
