package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// TestValueFraming covers the framing's round trip and each failure.
func TestValueFraming(t *testing.T) {
	l := newList(t, crdt.NewClock(uuid.New()), "list", "milk")
	payload := l.Encode()
	v := appendValue(nil, payload)
	if v[0] != valueVersion || len(v) != valueHeaderLen+len(payload) {
		t.Fatalf("framed value %x", v)
	}
	if got, err := decodeValue(v); err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("decodeValue = %x, %v", got, err)
	}
	flip := bytes.Clone(v)
	flip[len(flip)-1] ^= 1
	bigger := appendValue(nil, make([]byte, maxPayload+1))
	for name, tc := range map[string]struct {
		v    []byte
		want error
	}{
		"empty":     {nil, errShortValue},
		"short":     {v[:4], errShortValue},
		"version 0": {append([]byte{0}, v[1:]...), errValueVersion},
		"version 2": {append([]byte{2}, v[1:]...), errValueVersion},
		"flipped":   {flip, errChecksum},
		"truncated": {v[:len(v)-1], errChecksum},
		"too large": {bigger, errValueSize},
	} {
		if _, err := decodeValue(tc.v); !errors.Is(err, tc.want) {
			t.Errorf("%s: decodeValue error %v, want %v", name, err, tc.want)
		}
	}
	// Header only: an empty payload frames and verifies (and then fails to
	// decode as a part, which is decodePart's business).
	if got, err := decodeValue(appendValue(nil, nil)); err != nil || len(got) != 0 {
		t.Fatalf("empty payload: %x, %v", got, err)
	}
}

// FuzzDecodeValue: decodeValue never panics, accepts exactly the well-framed
// values, and what it accepts re-frames to the same bytes; decodePart never
// panics on what decodeValue accepts. With frame set, the input is framed
// first, so that the fuzzer also reaches decodePart with arbitrary payloads
// (it would rarely guess a CRC).
func FuzzDecodeValue(f *testing.F) {
	l := newList(f, crdt.NewClock(uuid.New()), "list", "milk")
	f.Add(appendValue(nil, l.Encode()), false)
	f.Add(appendValue(nil, l.Split()[1].Encode()), false)
	f.Add(l.Split()[0].Encode(), true)
	f.Add(l.Split()[1].Encode(), true)
	f.Add(appendValue(nil, nil), false)
	f.Add([]byte{}, false)
	f.Add([]byte{valueVersion, 0, 0, 0}, false)
	f.Add([]byte{2, 0, 0, 0, 0}, false)
	k := keyOf(l.ID()) // the seeds' list, so that they pass the ID check
	f.Fuzz(func(t *testing.T, v []byte, frame bool) {
		if frame {
			v = appendValue(nil, v)
		}
		payload, err := decodeValue(v)
		wellFramed := len(v) >= valueHeaderLen && v[0] == valueVersion &&
			len(v)-valueHeaderLen <= maxPayload &&
			binary.BigEndian.Uint32(v[1:5]) == crc32.Checksum(v[valueHeaderLen:], castagnoli)
		if (err == nil) != wellFramed {
			t.Fatalf("decodeValue(%x) error %v, but well framed = %v", v, err, wellFramed)
		}
		if err != nil {
			return
		}
		if !bytes.Equal(appendValue(nil, payload), v) {
			t.Fatalf("re-framing %x gives different bytes", v)
		}
		// What the store does next with an accepted payload must not panic
		// either, for a name key or an item key.
		_, _, _ = decodePart(partKey{list: k, name: true}, v)
		_, _, _ = decodePart(partKey{list: k, item: "milk"}, v)
	})
}
