package protocol

import (
	"bytes"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"reflect"
	"testing"

	"github.com/google/uuid"
	"golang.org/x/crypto/chacha20poly1305"
)

// sealPlain seals any plaintext as k would seal a LiveUpdate's, so that
// tests can make a subscriber open what no honest publisher would send.
func sealPlain(k *LiveKey, pt []byte) [][]byte {
	nonce := make([]byte, LiveNonceSize)
	rand.Read(nonce)
	return [][]byte{k.Topic(), k.aead.Seal(nonce, nonce, pt, k.topic[:])}
}

// plain frames a header and body as Seal does: len(header) ‖ header ‖ body.
func plain(header, body []byte) []byte {
	return append(append([]byte{byte(len(header))}, header...), body...)
}

func mustSeal(t testing.TB, k *LiveKey, m Message) [][]byte {
	t.Helper()
	frames, err := k.Seal(m)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return frames
}

func TestLiveSealOpenRoundTrip(t *testing.T) {
	k := NewLiveKey(listA)
	m := NewLiveUpdate(listA, listBody)
	frames := mustSeal(t, k, m)
	if len(frames) != 2 || !bytes.Equal(frames[0], k.Topic()) || len(frames[0]) != TopicSize {
		t.Fatalf("Seal frames %x, want [the list's %d-byte topic %x][sealed]", frames, TopicSize, k.Topic())
	}
	if want := LiveOverhead + len(m.Header.Encode()) + len(listBody); len(frames[1]) != want {
		t.Errorf("sealed frame is %d bytes, want %d (nonce, length, header, body, tag)", len(frames[1]), want)
	}
	for i, f := range frames {
		if bytes.Contains(f, listA[:]) || bytes.Contains(f, []byte(listA.String())) || bytes.Contains(f, listBody) {
			t.Errorf("frame %d %x shows the list ID or the body", i, f)
		}
	}
	got, err := k.Open(frames)
	if err != nil || !reflect.DeepEqual(got, m) {
		t.Fatalf("Open = %+v, %v; want %+v", got, err, m)
	}
	// A fresh nonce every time: the same update never seals the same way.
	if again := mustSeal(t, k, m); bytes.Equal(again[1], frames[1]) || bytes.Equal(again[1][:LiveNonceSize], frames[1][:LiveNonceSize]) {
		t.Error("two seals of one update are equal or share a nonce")
	}
	// The key is a function of the list ID alone.
	if k2 := NewLiveKey(listA); k2.TopicKey() != k.TopicKey() {
		t.Error("two derivations of one list's topic differ")
	} else if _, err := k2.Open(frames); err != nil {
		t.Errorf("a second derivation of the key cannot open: %v", err)
	}
}

// The sealed form is exactly what docs/PROTOCOL.md describes, so a peer in
// another language can build it: HKDF-SHA256 (standard library, not the
// implementation under test) of the 16 ID bytes with the documented salt
// and info strings, then XChaCha20-Poly1305 over len ‖ header ‖ body with
// the topic as additional data.
func TestSealedFormIsTheDocumentedConstruction(t *testing.T) {
	topic, err := hkdf.Key(sha256.New, listA[:], []byte("shoplist live updates"), "shoplist pub v1 topic", 16)
	must(t, err)
	key, err := hkdf.Key(sha256.New, listA[:], []byte("shoplist live updates"), "shoplist pub v1 key", 32)
	must(t, err)
	k := NewLiveKey(listA)
	if !bytes.Equal(k.Topic(), topic) {
		t.Fatalf("topic %x, want HKDF-SHA256 %x", k.Topic(), topic)
	}
	m := NewLiveUpdate(listA, listBody)
	frames := mustSeal(t, k, m)
	aead, err := chacha20poly1305.NewX(key)
	must(t, err)
	sealed := frames[1]
	pt, err := aead.Open(nil, sealed[:24], sealed[24:], topic)
	if err != nil {
		t.Fatalf("the documented key and additional data do not open the sealed frame: %v", err)
	}
	if want := plain(m.Header.Encode(), listBody); !bytes.Equal(pt, want) {
		t.Fatalf("plaintext %x, want len ‖ header ‖ body %x", pt, want)
	}
	// And the other way round: what a peer seals that way opens.
	nonce := make([]byte, 24)
	rand.Read(nonce)
	got, err := k.Open([][]byte{topic, aead.Seal(nonce, nonce, pt, topic)})
	if err != nil || !reflect.DeepEqual(got, m) {
		t.Fatalf("Open of a peer's seal = %+v, %v; want %+v", got, err, m)
	}
}

// The worked example of docs/PROTOCOL.md: the topic and key of list
// 6f1c0e2a-9b3d-4c5e-8f70-112233445566, and its LiveUpdate sealed with an
// all-zero nonce (a publisher picks the nonce at random; zero makes the
// example reproducible).
func TestLiveKnownAnswer(t *testing.T) {
	const (
		topicHex  = "b164dedf1acb7fc5a68e8514fa75119d"
		keyHex    = "24642c1281398aa10244f8275070317d04098548fed35b48ee428ea2ab444f12"
		plainHex  = "17" + "95010800c4106f1c0e2a9b3d4c5e8f7011223344556600" + "9501c402abcd"
		sealedHex = "000000000000000000000000000000000000000000000000" +
			"84c34cec560ccf0b993de33ae46a6fa33bd13cfbc2b319592c8a6d39c732" + // ciphertext
			"6f35420d7498c6977970ab8a33ca6c6f" // tag
	)
	k := NewLiveKey(listA)
	if got := hex.EncodeToString(k.Topic()); got != topicHex {
		t.Errorf("topic %s, want %s", got, topicHex)
	}
	key, err := hkdf.Key(sha256.New, listA[:], []byte("shoplist live updates"), "shoplist pub v1 key", 32)
	must(t, err)
	if got := hex.EncodeToString(key); got != keyHex {
		t.Errorf("key %s, want %s", got, keyHex)
	}
	m := NewLiveUpdate(listA, listBody)
	if got := hex.EncodeToString(plain(m.Header.Encode(), listBody)); got != plainHex {
		t.Errorf("plaintext %s, want %s", got, plainHex)
	}
	sealed, _ := hex.DecodeString(sealedHex)
	got, err := k.Open([][]byte{k.Topic(), sealed})
	if err != nil || !reflect.DeepEqual(got, m) {
		t.Fatalf("Open of the worked example = %+v, %v; want %+v", got, err, m)
	}
}

func TestLiveUpdateOfAnotherListCannotBeOpened(t *testing.T) {
	a, b := NewLiveKey(listA), NewLiveKey(listB)
	if a.TopicKey() == b.TopicKey() {
		t.Fatal("two lists have one topic")
	}
	frames := mustSeal(t, a, NewLiveUpdate(listA, listBody))
	// On its own topic, the other list's key does not match it...
	if _, err := b.Open(frames); !errors.Is(err, ErrMalformed) {
		t.Errorf("Open with another list's key: %v, want ErrMalformed (topic)", err)
	}
	// ...and moved to the other list's topic, it does not authenticate.
	if _, err := b.Open([][]byte{b.Topic(), frames[1]}); !errors.Is(err, ErrNotAuthentic) {
		t.Errorf("Open on another list's topic: %v, want ErrNotAuthentic", err)
	}
	// A key derived from a list ID one bit away is as foreign.
	near := listA
	near[15] ^= 1
	if _, err := NewLiveKey(near).Open([][]byte{NewLiveKey(near).Topic(), frames[1]}); !errors.Is(err, ErrNotAuthentic) {
		t.Errorf("Open with the key of a list one bit away: %v, want ErrNotAuthentic", err)
	}
}

func TestLiveTamperedByteIsRefused(t *testing.T) {
	k := NewLiveKey(listA)
	frames := mustSeal(t, k, NewLiveUpdate(listA, listBody))
	// Every byte of the sealed frame: nonce, length, header, body, tag.
	for i := range frames[1] {
		bad := bytes.Clone(frames[1])
		bad[i] ^= 0x01
		if m, err := k.Open([][]byte{frames[0], bad}); !errors.Is(err, ErrNotAuthentic) {
			t.Fatalf("byte %d of %d flipped: Open = %+v, %v; want ErrNotAuthentic", i, len(bad), m, err)
		}
	}
	for i := range frames[0] {
		bad := bytes.Clone(frames[0])
		bad[i] ^= 0x01
		if m, err := k.Open([][]byte{bad, frames[1]}); err == nil {
			t.Fatalf("topic byte %d flipped: Open = %+v", i, m)
		}
	}
	// Cut short or lengthened.
	for _, bad := range [][]byte{frames[1][:len(frames[1])-1], append(bytes.Clone(frames[1]), 0)} {
		if _, err := k.Open([][]byte{frames[0], bad}); !errors.Is(err, ErrNotAuthentic) {
			t.Errorf("sealed frame of %d bytes: %v, want ErrNotAuthentic", len(bad), err)
		}
	}
}

func TestOpenRejects(t *testing.T) {
	k := NewLiveKey(listA)
	good := mustSeal(t, k, NewLiveUpdate(listA, listBody))
	live := NewLiveUpdate(listA, listBody).Header.Encode()
	push := NewPush(1, listA, listBody).Header.Encode()
	other := NewLiveUpdate(listB, listBody).Header.Encode()
	for _, c := range []struct {
		name   string
		frames [][]byte
		want   error
	}{
		{"nothing", nil, ErrMalformed},
		{"one frame", good[1:], ErrMalformed},
		{"three frames", [][]byte{good[0], good[1], nil}, ErrMalformed},
		{"short topic", [][]byte{good[0][:15], good[1]}, ErrMalformed},
		{"long topic", [][]byte{append(bytes.Clone(good[0]), 0), good[1]}, ErrMalformed},
		{"the raw list ID as topic", [][]byte{listA[:], good[1]}, ErrMalformed},
		{"sealed shorter than nonce and tag", [][]byte{good[0], good[1][:LiveOverhead-1]}, ErrMalformed},
		{"sealed too large", [][]byte{good[0], make([]byte, MaxSealedSize+1)}, ErrTooLarge},
		{"empty plaintext", sealPlain(k, nil), ErrMalformed},
		{"header length past the end", sealPlain(k, []byte{40, 0x95}), ErrMalformed},
		{"header length over the limit", sealPlain(k, append([]byte{MaxHeaderSize + 1}, make([]byte, 100)...)), ErrMalformed},
		{"not a LiveUpdate", sealPlain(k, plain(push, listBody)), ErrMalformed},
		{"header of another list", sealPlain(k, plain(other, listBody)), ErrMalformed},
		{"no body", sealPlain(k, plain(live, nil)), ErrMalformed},
		{"header cut", sealPlain(k, plain(live[:len(live)-1], listBody)), ErrMalformed},
	} {
		if m, err := k.Open(c.frames); !errors.Is(err, c.want) {
			t.Errorf("%s: Open = %+v, %v; want %v", c.name, m, err, c.want)
		}
	}
	if _, err := PubTopic(good); err != nil {
		t.Errorf("PubTopic of a good update: %v", err)
	}
}

func TestSealRefuses(t *testing.T) {
	k := NewLiveKey(listA)
	for name, m := range map[string]Message{
		"a Push":            NewPush(1, listA, listBody),
		"another list":      NewLiveUpdate(listB, listBody),
		"no body":           NewLiveUpdate(listA, nil),
		"a body too large":  NewLiveUpdate(listA, make([]byte, MaxListSize+1)),
		"version 2":         func() Message { m := NewLiveUpdate(listA, listBody); m.Version = 2; return m }(),
		"without a version": {Header: Header{Type: TypeLiveUpdate, ListID: listA}, Body: listBody},
	} {
		if frames, err := k.Seal(m); err == nil {
			t.Errorf("Seal of %s = %x, want an error", name, frames)
		}
	}
}

func TestLiveKeysCacheIsBoundedAndKeepsKeysInUse(t *testing.T) {
	c := NewLiveKeys(8)
	hot := uuid.New()
	k := c.Get(hot)
	if k.List() != hot || k.TopicKey() != NewLiveKey(hot).TopicKey() {
		t.Fatalf("cached key of %s is for %s", hot, k.List())
	}
	for i := range 1000 {
		c.Get(uuid.New())
		if c.Len() > 8 {
			t.Fatalf("after %d lists the cache holds %d keys, at most 8 allowed", i+2, c.Len())
		}
		if c.Get(hot) != k {
			t.Fatalf("after %d lists the key in use was derived again", i+2)
		}
	}
	if c.Len() < 2 {
		t.Errorf("the cache holds %d keys", c.Len())
	}
}

func BenchmarkLiveSeal(b *testing.B) {
	k := NewLiveKey(listA)
	m := NewLiveUpdate(listA, make([]byte, 512))
	b.ReportAllocs()
	b.SetBytes(int64(len(m.Body)))
	for b.Loop() {
		if _, err := k.Seal(m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLiveKeyDerivation(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		NewLiveKey(listA)
	}
}

// FuzzOpenLive feeds Open any frames: it fails with one of this package's
// errors, or what it opened is a LiveUpdate of the key's list that seals
// and opens again to itself.
func FuzzOpenLive(f *testing.F) {
	k := NewLiveKey(listA)
	good := mustSeal(f, k, NewLiveUpdate(listA, listBody))
	f.Add(good[0], good[1])
	f.Add(good[0], good[1][:LiveOverhead])
	f.Add(listA[:], good[1])
	f.Fuzz(func(t *testing.T, topic, sealed []byte) {
		m, err := k.Open([][]byte{topic, sealed})
		if err != nil {
			sentinel(t, err)
			return
		}
		checkOpened(t, k, m)
	})
}

// FuzzLivePlaintext seals any plaintext with the list's key, as a holder
// of the list ID can, and opens it: the framing inside is checked as
// strictly as any other frame.
func FuzzLivePlaintext(f *testing.F) {
	k := NewLiveKey(listA)
	live := NewLiveUpdate(listA, listBody).Header.Encode()
	f.Add(plain(live, listBody))
	f.Add(plain(live, nil))
	f.Add(plain(NewPush(1, listA, listBody).Header.Encode(), listBody))
	f.Add([]byte{MaxHeaderSize, 0x95})
	f.Fuzz(func(t *testing.T, pt []byte) {
		m, err := k.Open(sealPlain(k, pt))
		if err != nil {
			sentinel(t, err)
			return
		}
		checkOpened(t, k, m)
	})
}

func checkOpened(t *testing.T, k *LiveKey, m Message) {
	t.Helper()
	if m.Type != TypeLiveUpdate || m.ListID != k.List() || len(m.Body) == 0 {
		t.Fatalf("Open accepted %+v", m)
	}
	m2, err := k.Open(mustSeal(t, k, m))
	if err != nil || !reflect.DeepEqual(m, m2) {
		t.Fatalf("re-seal: %+v, %v; want %+v", m2, err, m)
	}
}
