package protocol

import (
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"

	"github.com/google/uuid"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/hkdf"
)

// A list ID is the capability to read and write the list, so nothing
// published on PUB shows one. Every LiveUpdate is published as
//
//	[topic][sealed]
//	topic  = 16 bytes derived from the list ID (one-way)
//	sealed = nonce (24 random bytes) ‖ XChaCha20-Poly1305(key, nonce,
//	         plaintext = len(header) (1 byte) ‖ header ‖ body,
//	         additional data = topic)
//
// where topic and key come from the list ID by HKDF-SHA256 (LiveKey). A
// holder of the list ID derives both, subscribes to the topic and opens
// what arrives; anyone else sees only that some list changed, when, and
// how many bytes it took.

// Sizes of the sealed form of a LiveUpdate.
const (
	// TopicSize is the length of every PUB topic frame.
	TopicSize = 16
	// LiveNonceSize is the length of the random nonce that starts a sealed
	// frame (XChaCha20-Poly1305's extended nonce).
	LiveNonceSize = chacha20poly1305.NonceSizeX
	// LiveOverhead is what sealing adds to a LiveUpdate's header and body:
	// the nonce, the header length byte and the authentication tag.
	LiveOverhead = LiveNonceSize + 1 + chacha20poly1305.Overhead
	// MaxSealedSize is the largest sealed frame a subscriber accepts: a
	// LiveUpdate with the largest header and list body.
	MaxSealedSize = LiveOverhead + MaxHeaderSize + MaxListSize
)

// HKDF-SHA256 inputs. The list ID is the secret; the salt names the
// product and the info strings name what is derived and the version of the
// sealed form, so a later form derives other topics and its updates never
// reach a subscriber of this one.
var (
	liveSalt      = []byte("shoplist live updates")
	liveTopicInfo = []byte("shoplist pub v1 topic")
	liveKeyInfo   = []byte("shoplist pub v1 key")
)

// LiveKey is what a list's ID yields for its live updates: the PUB topic
// and the AEAD key that seals and opens them. Derive it once per list and
// keep it (a publisher of many lists: LiveKeys). A LiveKey is immutable and
// safe for concurrent use.
type LiveKey struct {
	list  uuid.UUID
	topic [TopicSize]byte
	aead  cipher.AEAD
}

// NewLiveKey derives list's topic and key with HKDF-SHA256.
func NewLiveKey(list uuid.UUID) *LiveKey {
	prk := hkdf.Extract(sha256.New, list[:], liveSalt)
	k := &LiveKey{list: list}
	var key [chacha20poly1305.KeySize]byte
	if _, err := io.ReadFull(hkdf.Expand(sha256.New, prk, liveTopicInfo), k.topic[:]); err != nil {
		panic("protocol: HKDF expand: " + err.Error()) // only past 255 hash lengths
	}
	if _, err := io.ReadFull(hkdf.Expand(sha256.New, prk, liveKeyInfo), key[:]); err != nil {
		panic("protocol: HKDF expand: " + err.Error())
	}
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		panic("protocol: " + err.Error()) // only for a key of the wrong size
	}
	k.aead = aead
	return k
}

// List returns the list the key belongs to.
func (k *LiveKey) List() uuid.UUID { return k.list }

// Topic returns the list's PUB topic, a copy. Every topic is TopicSize
// bytes, so a SUB socket subscribed to it (string(k.Topic()) with APIs that
// take a string) receives exactly this list's updates.
func (k *LiveKey) Topic() []byte { return bytes.Clone(k.topic[:]) }

// TopicKey returns the topic as an array, for maps from topic to list.
func (k *LiveKey) TopicKey() [TopicSize]byte { return k.topic }

// sealedBuf lets Seal return its frames and the topic in one allocation.
type sealedBuf struct {
	frames [2][]byte
	topic  [TopicSize]byte
}

// Seal returns the two frames the proxy's PUB socket sends for m, a
// LiveUpdate of k's list: [topic][sealed], with a fresh random nonce. The
// message is checked as Validate does first. Seal makes two allocations.
func (k *LiveKey) Seal(m Message) ([][]byte, error) {
	switch {
	case m.Type != TypeLiveUpdate:
		return nil, fmt.Errorf("%w: only a LiveUpdate is published, not %v", ErrMalformed, m.Type)
	case m.ListID != k.list:
		return nil, fmt.Errorf("%w: LiveUpdate of list %s sealed with the key of another list", ErrMalformed, m.ListID)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	var hb [MaxHeaderSize]byte
	h := m.Header.Append(hb[:0])
	n := LiveNonceSize + 1 + len(h) + len(m.Body)
	buf := make([]byte, n, n+chacha20poly1305.Overhead)
	nonce := buf[:LiveNonceSize]
	rand.Read(nonce) // never fails: a failure of the system's source ends the program
	buf[LiveNonceSize] = byte(len(h))
	copy(buf[LiveNonceSize+1:], h)
	copy(buf[LiveNonceSize+1+len(h):], m.Body)
	out := new(sealedBuf)
	out.topic = k.topic
	out.frames[0] = out.topic[:]
	// The plaintext is sealed in place, right after the nonce.
	out.frames[1] = k.aead.Seal(nonce, nonce, buf[LiveNonceSize:], out.topic[:])
	return out.frames[:], nil
}

// PubTopic checks the frames a SUB socket received, [topic][sealed], for
// their count and sizes, and returns the topic, so that the receiver can
// find the LiveKey that opens them. Nothing is decrypted.
func PubTopic(frames [][]byte) ([TopicSize]byte, error) {
	var t [TopicSize]byte
	if len(frames) != 2 {
		return t, fmt.Errorf("%w: %d frames, want 2 ([topic][sealed])", ErrMalformed, len(frames))
	}
	if len(frames[0]) != TopicSize {
		return t, fmt.Errorf("%w: topic is %d bytes, want %d", ErrMalformed, len(frames[0]), TopicSize)
	}
	switch n := len(frames[1]); {
	case n > MaxSealedSize:
		return t, fmt.Errorf("%w: sealed live update is %d bytes, at most %d allowed", ErrTooLarge, n, MaxSealedSize)
	case n < LiveOverhead:
		return t, fmt.Errorf("%w: sealed live update is %d bytes, at least %d needed", ErrMalformed, n, LiveOverhead)
	}
	copy(t[:], frames[0])
	return t, nil
}

// Open authenticates and decrypts what a SUB socket received for k's list,
// [topic][sealed], and parses the LiveUpdate inside: its header as Parse
// checks it, its list ID k's list. Sizes are checked before anything is
// allocated; the one allocation is the plaintext, which m.Body aliases.
// Errors wrap ErrMalformed, ErrTooLarge, ErrNotAuthentic (the frames were
// not sealed with k: another list's, altered, or forged) or what Parse
// returns.
func (k *LiveKey) Open(frames [][]byte) (Message, error) {
	topic, err := PubTopic(frames)
	if err != nil {
		return Message{}, err
	}
	if topic != k.topic {
		return Message{}, fmt.Errorf("%w: topic %x is not the topic of list %s", ErrMalformed, topic, k.list)
	}
	sealed := frames[1]
	ct := sealed[LiveNonceSize:]
	pt, err := k.aead.Open(make([]byte, 0, len(ct)-chacha20poly1305.Overhead), sealed[:LiveNonceSize], ct, frames[0])
	if err != nil {
		return Message{}, fmt.Errorf("%w: %d bytes on topic %x", ErrNotAuthentic, len(sealed), topic)
	}
	return k.parsePlain(pt)
}

// parsePlain parses an opened plaintext, len(header) ‖ header ‖ body, as a
// LiveUpdate of k's list.
func (k *LiveKey) parsePlain(pt []byte) (Message, error) {
	if len(pt) == 0 {
		return Message{}, fmt.Errorf("%w: empty live update", ErrMalformed)
	}
	hl := int(pt[0])
	if hl > MaxHeaderSize || hl > len(pt)-1 {
		return Message{}, fmt.Errorf("%w: live update header length %d in %d bytes (at most %d)", ErrMalformed, hl, len(pt)-1, MaxHeaderSize)
	}
	m, err := Parse([][]byte{pt[1 : 1+hl], pt[1+hl:]})
	switch {
	case err != nil:
		return Message{}, err
	case m.Type != TypeLiveUpdate:
		return Message{}, fmt.Errorf("%w: %v published, only LiveUpdate is", ErrMalformed, m.Type)
	case m.ListID != k.list:
		return Message{}, fmt.Errorf("%w: live update on the topic of list %s names list %s", ErrMalformed, k.list, m.ListID)
	}
	return m, nil
}

// LiveKeys is a bounded cache of LiveKeys by list, for a publisher that
// seals the updates of many lists: each list's key is derived once while
// it stays in use. It holds at most the number of keys it was made with.
// It is not safe for concurrent use: one goroutine owns it.
type LiveKeys struct {
	half      int // the most keys of one generation
	cur, prev map[uuid.UUID]*LiveKey
}

// NewLiveKeys returns an empty cache of at most size keys (at least 2).
func NewLiveKeys(size int) *LiveKeys {
	return &LiveKeys{half: max(size/2, 1), cur: map[uuid.UUID]*LiveKey{}, prev: map[uuid.UUID]*LiveKey{}}
}

// Get returns list's key, deriving it if it is not cached. A key used
// since the last generation change stays cached; when the current
// generation is full it becomes the previous one and the keys not used
// since are forgotten.
func (c *LiveKeys) Get(list uuid.UUID) *LiveKey {
	if k := c.cur[list]; k != nil {
		return k
	}
	k := c.prev[list]
	if k == nil {
		k = NewLiveKey(list)
	} else {
		delete(c.prev, list)
	}
	if len(c.cur) >= c.half {
		c.prev, c.cur = c.cur, map[uuid.UUID]*LiveKey{}
	}
	c.cur[list] = k
	return k
}

// Len returns how many keys are cached.
func (c *LiveKeys) Len() int { return len(c.cur) + len(c.prev) }
