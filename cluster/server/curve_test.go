package server

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"shoplist/internal/curvekey"
)

func TestTheServerKeepsOneKeyInItsDataDirectory(t *testing.T) {
	p := newFakeProxy(t)
	dir := t.TempDir()
	cfg := Config{Dir: dir, Proxies: []string{p.dial()}, Heartbeat: 500 * time.Millisecond, Logger: testLogger(t)}
	s, err := Start(context.Background(), cfg)
	must(t, err)
	key := s.PublicKey()
	if pub, err := curvekey.ReadPublic(PublicKeyFile(dir)); err != nil || pub != key {
		t.Fatalf("%s holds %q (%v), the server says %q", PublicKeyFile(dir), pub, err, key)
	}
	info, err := os.Stat(filepath.Join(curvekey.DirIn(dir), "server.key"))
	must(t, err)
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("the secret key has mode %04o, want 0600", info.Mode().Perm())
	}
	p.welcome(1)
	must(t, s.Close())

	again, err := Start(context.Background(), cfg)
	must(t, err)
	defer again.Close()
	if again.PublicKey() != key {
		t.Fatalf("after a restart the key is %q, was %q", again.PublicKey(), key)
	}
	if k, err := LoadOrCreateKey(dir); err != nil || k.Public != key {
		t.Fatalf("LoadOrCreateKey = %q, %v; want the server's %q", k.Public, err, key)
	}
}

// TestTheServerTalksOnlyToTheProxyWhoseKeyItWasGiven: a proxy that does
// not hold the secret of the key in the server's endpoint cannot complete
// the handshake, so the server sends it nothing, not even its hello.
func TestTheServerTalksOnlyToTheProxyWhoseKeyItWasGiven(t *testing.T) {
	impostor := newFakeProxy(t)
	must(t, impostor.sock.Monitor("inproc://server-test-impostor", zmq.EVENT_HANDSHAKE_SUCCEEDED|zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL|
		zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL|zmq.EVENT_HANDSHAKE_FAILED_AUTH))
	mon, err := zmq.NewSocket(zmq.PAIR)
	must(t, err)
	defer mon.Close()
	mon.SetLinger(0)
	must(t, mon.Connect("inproc://server-test-impostor"))

	genuine := newKeyPair(t) // the key of the proxy the server was told of
	startServer(t, impostor, func(c *Config) {
		c.Proxies = []string{curvekey.JoinEndpoint(impostor.endpoint, genuine.Public)}
	})
	must(t, mon.SetRcvtimeo(wait))
	ev, _, _, err := mon.RecvEvent(0)
	must(t, err)
	if ev == zmq.EVENT_HANDSHAKE_SUCCEEDED {
		t.Fatal("the server completed a handshake with a proxy that does not hold the key it was given")
	}
	poller := zmq.NewPoller()
	poller.Add(impostor.sock, zmq.POLLIN)
	if polled, err := poller.Poll(0); err != nil || len(polled) != 0 {
		t.Fatalf("the impostor received something (%v)", err)
	}
}

// TestAServerWhoseKeyIsRefusedSaysSo: a proxy whose ZAP handler refuses
// the server's key never hears from it, and the server logs why, naming
// its key file, instead of only finding the proxy silent.
func TestAServerWhoseKeyIsRefusedSaysSo(t *testing.T) {
	zctx, err := zmq.NewContext()
	must(t, err)
	zap, err := zctx.NewSocket(zmq.REP)
	must(t, err)
	zap.SetLinger(0)
	must(t, zap.Bind("inproc://zeromq.zap.01"))
	refused := make(chan struct{})
	go func() { // the proxy's ZAP handler: every key is refused
		defer close(refused)
		defer zap.Close()
		for {
			req, err := zap.RecvMessageBytes(0)
			if err != nil {
				return // the context is terminated
			}
			zap.SendMessage("1.0", req[1], "400", "key not admitted", "", "")
		}
	}()
	key := newKeyPair(t)
	router, err := zctx.NewSocket(zmq.ROUTER)
	must(t, err)
	router.SetLinger(0)
	must(t, router.SetCurveServer(1))
	must(t, router.SetCurveSecretkey(key.Secret))
	must(t, router.Bind("tcp://127.0.0.1:*"))
	ep, err := router.GetLastEndpoint()
	must(t, err)
	t.Cleanup(func() {
		router.Close()
		zctx.Term()
		<-refused
	})

	var logs syncBuffer
	dir := t.TempDir()
	s, err := Start(context.Background(), Config{Dir: dir, Proxies: []string{curvekey.JoinEndpoint(ep, key.Public)},
		Heartbeat: 500 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	must(t, err)
	defer s.Close()
	eventually(t, "the refusal reported", func() bool {
		return s.refusals.Load() > 0 && strings.Contains(logs.String(), "refuses this server's key")
	})
	if !strings.Contains(logs.String(), PublicKeyFile(dir)) {
		t.Fatalf("the refusal does not name the key file %s:\n%s", PublicKeyFile(dir), logs.String())
	}
	poller := zmq.NewPoller()
	poller.Add(router, zmq.POLLIN)
	if polled, err := poller.Poll(0); err != nil || len(polled) != 0 {
		t.Fatalf("the proxy received something from a refused server (%v)", err)
	}
}
