package curvekey

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestZ85MatchesLibzmq checks the codec against libzmq's, both ways, on
// random keys and the RFC's test vector.
func TestZ85MatchesLibzmq(t *testing.T) {
	rfc := []byte{0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B}
	if got := encodeZ85(rfc); got != "HelloWorld" {
		t.Fatalf("encodeZ85(RFC 32 vector) = %q, want HelloWorld", got)
	}
	for range 100 {
		p := make([]byte, Size)
		rand.Read(p)
		text := encodeZ85(p)
		if want := zmq.Z85encode(string(p)); text != want {
			t.Fatalf("encodeZ85 = %q, libzmq %q", text, want)
		}
		back, err := decodeZ85(text)
		must(t, err)
		if !bytes.Equal(back, p) {
			t.Fatalf("decodeZ85(encodeZ85(p)) = %x, want %x", back, p)
		}
	}
}

func TestBadKeysAreRefused(t *testing.T) {
	p, err := Generate()
	must(t, err)
	for name, key := range map[string]string{
		"empty":            "",
		"short":            p.Public[:35],
		"long":             p.Public + "00000",
		"not in alphabet":  "~" + p.Public[1:],
		"space":            " " + p.Public[1:],
		"group over 2^32":  "%%%%%" + p.Public[5:],
		"a quote":          `"` + p.Public[1:],
		"a comma (a list)": "," + p.Public[1:],
	} {
		if err := CheckPublic(key); !errors.Is(err, ErrBadKey) {
			t.Errorf("%s: CheckPublic(%q) = %v, want ErrBadKey", name, key, err)
		}
	}
	must(t, CheckPublic(p.Public))
	if _, err := FromSecret(p.Public[:39]); !errors.Is(err, ErrBadKey) {
		t.Errorf("FromSecret of a short key: %v", err)
	}
}

// TestGeneratedPairsAreLibzmqPairs checks that libzmq derives the same
// public key from the secret, and that the pair completes a CURVE
// handshake with libzmq as client and server.
func TestGeneratedPairsAreLibzmqPairs(t *testing.T) {
	server, err := Generate()
	must(t, err)
	client, err := Generate()
	must(t, err)
	for _, p := range []Pair{server, client} {
		pub, err := zmq.AuthCurvePublic(p.Secret)
		must(t, err)
		if pub != p.Public {
			t.Fatalf("libzmq derives %q from the secret, Generate said %q", pub, p.Public)
		}
		again, err := FromSecret(p.Secret)
		must(t, err)
		if again != p {
			t.Fatalf("FromSecret = %v, want %v", again, p)
		}
	}
	if strings.Contains(server.String(), server.Secret) {
		t.Fatalf("String shows the secret: %s", server)
	}
	router, err := zmq.NewSocket(zmq.ROUTER)
	must(t, err)
	defer router.Close()
	router.SetLinger(0)
	must(t, router.SetCurveServer(1))
	must(t, router.SetCurveSecretkey(server.Secret))
	must(t, router.Bind("tcp://127.0.0.1:*"))
	ep, err := router.GetLastEndpoint()
	must(t, err)
	dealer, err := zmq.NewSocket(zmq.DEALER)
	must(t, err)
	defer dealer.Close()
	dealer.SetLinger(0)
	must(t, dealer.SetCurveServerkey(server.Public))
	must(t, dealer.SetCurvePublickey(client.Public))
	must(t, dealer.SetCurveSecretkey(client.Secret))
	must(t, dealer.Connect(ep))
	_, err = dealer.SendMessage("sealed")
	must(t, err)
	must(t, router.SetRcvtimeo(10*time.Second))
	got, err := router.RecvMessage(0)
	must(t, err)
	if len(got) != 2 || got[1] != "sealed" {
		t.Fatalf("router received %q", got)
	}
}

func TestLoadOrCreateKeepsOnePairPrivately(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "curve")
	p, created, err := LoadOrCreate(dir, "server")
	must(t, err)
	if !created {
		t.Fatal("the first call did not create a pair")
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "server.key"): 0o600, PublicPath(dir, "server"): 0o600} {
		info, err := os.Stat(path)
		must(t, err)
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s has mode %04o, want %04o", path, got, want)
		}
	}
	pub, err := ReadPublic(PublicPath(dir, "server"))
	must(t, err)
	if pub != p.Public {
		t.Fatalf("server.pub holds %q, want %q", pub, p.Public)
	}
	again, created, err := LoadOrCreate(dir, "server")
	must(t, err)
	if created || again != p {
		t.Fatalf("second call: created %v, %v; want the first pair %v", created, again, p)
	}

	// A public key file that is missing or wrong is written again.
	must(t, os.WriteFile(PublicPath(dir, "server"), []byte("garbage\n"), 0o600))
	if _, _, err := LoadOrCreate(dir, "server"); err != nil {
		t.Fatal(err)
	}
	if pub, err := ReadPublic(PublicPath(dir, "server")); err != nil || pub != p.Public {
		t.Fatalf("server.pub after repair: %q, %v", pub, err)
	}

	// A secret others may read is refused, naming the file.
	must(t, os.Chmod(filepath.Join(dir, "server.key"), 0o644))
	if _, _, err := LoadOrCreate(dir, "server"); err == nil || !strings.Contains(err.Error(), "server.key") {
		t.Fatalf("a world-readable secret key: %v", err)
	}
	must(t, os.Chmod(filepath.Join(dir, "server.key"), 0o600))

	// A damaged secret is an error, never replaced by a new pair.
	must(t, os.WriteFile(filepath.Join(dir, "server.key"), []byte("not a key\n"), 0o600))
	if _, _, err := LoadOrCreate(dir, "server"); !errors.Is(err, ErrBadKey) {
		t.Fatalf("a damaged secret key: %v", err)
	}
}

func TestSplitEndpoint(t *testing.T) {
	p, err := Generate()
	must(t, err)
	ep, key, err := SplitEndpoint(JoinEndpoint("tcp://127.0.0.1:5557", p.Public))
	if err != nil || ep != "tcp://127.0.0.1:5557" || key != p.Public {
		t.Fatalf("SplitEndpoint(JoinEndpoint) = %q, %q, %v", ep, key, err)
	}
	if ep, key, err := SplitEndpoint("tcp://127.0.0.1:5557"); err != nil || ep != "tcp://127.0.0.1:5557" || key != "" {
		t.Fatalf("a plain endpoint: %q, %q, %v", ep, key, err)
	}
	for _, bad := range []string{"tcp://h:1#", "tcp://h:1#short", "#" + p.Public} {
		if _, _, err := SplitEndpoint(bad); err == nil {
			t.Errorf("SplitEndpoint(%q) accepted", bad)
		}
	}
}

func TestParsePublicTakesAKeyOrAFile(t *testing.T) {
	dir := t.TempDir()
	p, _, err := LoadOrCreate(dir, "server")
	must(t, err)
	if got, err := ParsePublic(p.Public); err != nil || got != p.Public {
		t.Fatalf("ParsePublic(key) = %q, %v", got, err)
	}
	if got, err := ParsePublic("@" + PublicPath(dir, "server")); err != nil || got != p.Public {
		t.Fatalf("ParsePublic(@file) = %q, %v", got, err)
	}
	if _, err := ParsePublic("@" + filepath.Join(dir, "missing.pub")); err == nil {
		t.Fatal("ParsePublic of a missing file accepted")
	}
	// A key that starts with @ is a key when no file has its name.
	at := "@" + p.Public[1:]
	if CheckPublic(at) == nil {
		if got, err := ParsePublic(at); err != nil || got != at {
			t.Fatalf("ParsePublic(%q) = %q, %v", at, got, err)
		}
	}
	if _, err := ParsePublic("nonsense"); !errors.Is(err, ErrBadKey) {
		t.Fatalf("ParsePublic(nonsense) = %v", err)
	}
}
