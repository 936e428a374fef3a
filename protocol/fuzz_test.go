package protocol

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// Every fuzz target checks that its decoder never panics, that every failure
// wraps one of the package's sentinels, and that whatever decodes re-encodes
// to bytes that decode to an equal value and re-encode identically.

func sentinel(t *testing.T, err error) {
	t.Helper()
	for _, s := range []error{ErrMalformed, ErrUnsupportedVersion, ErrUnknownType, ErrTooLarge, ErrInvalidID, ErrNotAuthentic} {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("error %v wraps no sentinel", err)
}

func seedFrames(f *testing.F) {
	for _, s := range samples(f) {
		fr := s.m.Frames()
		f.Add(fr[0], fr[1])
	}
}

func FuzzParse(f *testing.F) {
	seedFrames(f)
	f.Fuzz(func(t *testing.T, header, body []byte) {
		m, err := Parse([][]byte{header, body})
		if err != nil {
			sentinel(t, err)
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("parsed message fails Validate: %v", err)
		}
		if RequestIDOf([][]byte{header}) != m.RequestID {
			t.Fatalf("RequestIDOf disagrees with Parse")
		}
		fr := m.Frames()
		m2, err := Parse(fr)
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("re-parse: %+v, %v; want %+v", m2, err, m)
		}
		if !bytes.Equal(m2.Header.Encode(), fr[0]) {
			t.Fatal("header encoding is not a fixed point")
		}
	})
}

func FuzzParseHeader(f *testing.F) {
	seedFrames(f)
	f.Fuzz(func(t *testing.T, header, _ []byte) {
		h, err := ParseHeader(header)
		if err != nil {
			sentinel(t, err)
			if h != (Header{}) {
				t.Fatalf("ParseHeader returned %+v with its error", h)
			}
			return
		}
		if RequestIDOf([][]byte{header}) != h.RequestID {
			t.Fatalf("RequestIDOf disagrees with ParseHeader")
		}
		enc := h.Encode()
		h2, err := ParseHeader(enc)
		if err != nil || h2 != h || !bytes.Equal(h2.Encode(), enc) {
			t.Fatalf("re-parse of %x: %+v, %v; want %+v", enc, h2, err, h)
		}
	})
}

func FuzzSplitRouting(f *testing.F) {
	fr := NewPull(1, listA).Frames()
	f.Add([]byte{0, 1, 2, 3, 4}, fr[0], fr[1], []byte(nil), uint8(3))
	f.Add([]byte{}, fr[0], fr[1], []byte(nil), uint8(3))
	f.Add([]byte("id"), []byte("id2"), fr[0], fr[1], uint8(4))
	f.Fuzz(func(t *testing.T, a, b, c, d []byte, n uint8) {
		in := [][]byte{a, b, c, d}[:n%5]
		identity, rest, err := SplitRouting(in)
		if err != nil {
			sentinel(t, err)
			return
		}
		if len(identity) != MaxRoutingDepth || len(rest) != 2 || cap(identity) != len(identity) {
			t.Fatalf("split %d frames into %d + %d (cap %d)", len(in), len(identity), len(rest), cap(identity))
		}
		if !reflect.DeepEqual(append(append([][]byte{}, identity...), rest...), in) {
			t.Fatal("split frames do not rejoin to the input")
		}
		_, _ = Parse(rest)
	})
}

// fuzzBody is the common property of the typed body decoders.
func fuzzBody[T any](f *testing.F, seeds [][]byte, dec func([]byte) (T, error), enc func(T) ([]byte, error)) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		v, err := dec(p)
		if err != nil {
			sentinel(t, err)
			var zero T
			if !reflect.DeepEqual(v, zero) {
				t.Fatalf("decoder returned %+v with its error", v)
			}
			return
		}
		b, err := enc(v)
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", v, err)
		}
		v2, err := dec(b)
		if err != nil || !reflect.DeepEqual(v, v2) {
			t.Fatalf("re-decode of %x: %+v, %v; want %+v", b, v2, err, v)
		}
		if b2, _ := enc(v2); !bytes.Equal(b, b2) {
			t.Fatalf("encoding is not a fixed point: %x then %x", b, b2)
		}
	})
}

// bodiesOf returns the bodies of the sample messages of the given types.
func bodiesOf(f *testing.F, types ...Type) [][]byte {
	var out [][]byte
	for _, s := range samples(f) {
		for _, t := range types {
			if s.m.Type == t {
				out = append(out, s.m.Body)
			}
		}
	}
	return out
}

func FuzzDecodeErrorBody(f *testing.F) {
	fuzzBody(f, bodiesOf(f, TypeError), DecodeErrorBody, ErrorBody.Encode)
}

func FuzzDecodeWelcomeBody(f *testing.F) {
	fuzzBody(f, bodiesOf(f, TypeWelcome), DecodeWelcomeBody, WelcomeBody.Encode)
}

func FuzzDecodeSubscribeBody(f *testing.F) {
	fuzzBody(f, bodiesOf(f, TypeSubscribe, TypeUnsubscribe), DecodeSubscribeBody, SubscribeBody.Encode)
}

func FuzzDecodeServerHelloBody(f *testing.F) {
	fuzzBody(f, bodiesOf(f, TypeServerHello), DecodeServerHelloBody, ServerHelloBody.Encode)
}

func FuzzDecodeHintBody(f *testing.F) {
	fuzzBody(f, bodiesOf(f, TypeHintedStore, TypeHandoff), DecodeHintBody, HintBody.Encode)
}

func FuzzDecodeEpochBody(f *testing.F) {
	fuzzBody(f, bodiesOf(f, TypeEpochAnnounce), DecodeEpochBody, EpochBody.Encode)
}

func FuzzDecodeServerReportBody(f *testing.F) {
	fuzzBody(f, bodiesOf(f, TypeServerReport), DecodeServerReportBody, ServerReportBody.Encode)
}

func FuzzDecodeDigestBody(f *testing.F) {
	fuzzBody(f, bodiesOf(f, TypeDigest), DecodeDigestBody, DigestBody.Encode)
}

func FuzzDecodeDigestReplyBody(f *testing.F) {
	fuzzBody(f, bodiesOf(f, TypeDigestReply), DecodeDigestReplyBody, DigestReplyBody.Encode)
}

func FuzzDecodePullBody(f *testing.F) {
	fuzzBody(f, append(bodiesOf(f, TypePull), []byte{}, []byte{0x91, 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}),
		DecodePullBody, PullBody.Encode)
}

func FuzzDecodeStoreReplyBody(f *testing.F) {
	fuzzBody(f, bodiesOf(f, TypeStoreReply), DecodeStoreReplyBody, StoreReplyBody.Encode)
}

// FuzzUnbatch: a Batch body that unbatches gathers back into the same
// bytes, and every message in it is one Parse accepts alone.
func FuzzUnbatch(f *testing.F) {
	for _, s := range samples(f) {
		if s.m.Type == TypeBatch {
			f.Add(s.m.Body)
		}
	}
	f.Add([]byte{})
	f.Add([]byte{0x05, 0x95})
	f.Fuzz(func(t *testing.T, body []byte) {
		msgs, err := Unbatch(body)
		if err != nil {
			sentinel(t, err)
			return
		}
		var b Batcher
		for _, m := range msgs {
			if _, err := Parse(m.Frames()); err != nil {
				t.Fatalf("a batched message does not parse alone: %v", err)
			}
			if !b.Fits(m) {
				t.Fatalf("%d messages unbatched from %d bytes do not fit a Batch again", len(msgs), len(body))
			}
			b.Add(m)
		}
		again, ok := b.Take(0)
		if !ok || !bytes.Equal(again.Body, body) {
			t.Fatalf("re-batched body differs:\n got %x\nwant %x", again.Body, body)
		}
	})
}
