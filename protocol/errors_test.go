package protocol

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"shoplist/crdt"
)

func TestCodeOf(t *testing.T) {
	_, badList := crdt.Decode([]byte{0x90})
	cases := []struct {
		err  error
		want ErrorCode
	}{
		{nil, 0},
		{fmt.Errorf("%w: x", ErrMalformed), CodeBadRequest},
		{fmt.Errorf("%w: x", ErrInvalidID), CodeBadRequest},
		{fmt.Errorf("%w: x", ErrNotAuthentic), CodeBadRequest},
		{fmt.Errorf("%w: x", ErrUnsupportedVersion), CodeUnsupportedVersion},
		{fmt.Errorf("%w: x", ErrUnknownType), CodeUnknownType},
		{fmt.Errorf("%w: x", ErrTooLarge), CodeTooLarge},
		{crdt.ErrTooLarge, CodeTooLarge},
		{badList, CodeInvalidList},
		{crdt.ErrIDMismatch, CodeInvalidList},
		{ErrorBody{CodeStaleEpoch, "epoch 9 > 8"}, CodeStaleEpoch},
		{fmt.Errorf("relay: %w", ErrorBody{CodeQuorumFailed, ""}), CodeQuorumFailed},
		{errors.New("disk on fire"), CodeInternal},
	}
	for _, c := range cases {
		if got := CodeOf(c.err); got != c.want {
			t.Errorf("CodeOf(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	// Every decoding failure maps to a client-error code, never Internal.
	for _, frames := range [][][]byte{nil, {{0xc1}, nil}, {make([]byte, 100), nil}} {
		_, err := Parse(frames)
		if c := CodeOf(err); c == CodeInternal || c == 0 {
			t.Errorf("CodeOf(%v) = %v", err, c)
		}
	}
}

func TestStrings(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{TypePush.String(), "Push"},
		{TypeEpochAnnounce.String(), "EpochAnnounce"},
		{Type(0).String(), "Type(0)"},
		{Type(200).String(), "Type(200)"},
		{CodeQuorumFailed.String(), "QuorumFailed"},
		{CodeInternal.String(), "Internal"},
		{ErrorCode(0).String(), "ErrorCode(0)"},
		{ErrorCode(99).String(), "ErrorCode(99)"},
		{MemberLeaving.String(), "Leaving"},
		{MemberState(7).String(), "MemberState(7)"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	names := map[string]bool{}
	for _, typ := range Types() {
		if !typ.Known() || strings.HasPrefix(typ.String(), "Type(") || names[typ.String()] {
			t.Errorf("type %d has name %q", uint8(typ), typ)
		}
		names[typ.String()] = true
	}
	if len(Types()) != 26 {
		t.Errorf("%d types, want 26", len(Types()))
	}
	for c := ErrorCode(1); c <= CodeNewListLimit; c++ {
		if !c.Known() || strings.HasPrefix(c.String(), "ErrorCode(") {
			t.Errorf("code %d has no name", uint8(c))
		}
	}
}

func TestNewError(t *testing.T) {
	long := strings.Repeat("é", MaxErrorMessageLen) // 2 bytes a rune
	m := NewError(4, 0, long+"\xff")
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	err := m.Err()
	var b ErrorBody
	if !errors.As(err, &b) {
		t.Fatalf("Err() = %v, want an ErrorBody", err)
	}
	if b.Code != CodeInternal || len(b.Message) != MaxErrorMessageLen || !utf8.ValidString(b.Message) {
		t.Fatalf("NewError with code 0 and an over-long message gave code %v, %d bytes", b.Code, len(b.Message))
	}
	odd := strings.Repeat("x", MaxErrorMessageLen-1) + "é" // the rune straddles the limit
	if b, _ := DecodeErrorBody(NewError(4, CodeBadRequest, odd).Body); len(b.Message) != MaxErrorMessageLen-1 {
		t.Fatalf("cut at %d bytes, want %d", len(b.Message), MaxErrorMessageLen-1)
	}
	if NewPull(1, listA).Err() != nil {
		t.Fatal("Err() of a Pull is not nil")
	}
	if err := (Message{Header: Header{Type: TypeError}, Body: []byte{0x90}}).Err(); !errors.Is(err, ErrMalformed) {
		t.Fatalf("Err() of a broken Error body = %v", err)
	}
}

func TestNewErrorFrom(t *testing.T) {
	remote := ErrorBody{CodeQuorumFailed, "1 of 2"}
	got, _ := DecodeErrorBody(NewErrorFrom(9, remote).Body)
	if got != remote {
		t.Errorf("relayed %+v as %+v", remote, got)
	}
	_, err := ParseHeader(hx("95 07 03 07 c0 00"))
	got, _ = DecodeErrorBody(NewErrorFrom(9, err).Body)
	if got.Code != CodeUnsupportedVersion || got.Message != err.Error() {
		t.Errorf("NewErrorFrom(%v) = %+v", err, got)
	}
	if got, _ := DecodeErrorBody(NewErrorFrom(9, nil).Body); got.Code != CodeInternal {
		t.Errorf("NewErrorFrom(nil) = %+v", got)
	}
}

// TestRequestIDOf: a receiver can address its error reply even when the
// header is of an unknown version or type.
func TestRequestIDOf(t *testing.T) {
	for hdr, want := range map[string]uint64{
		"97 02 03 cd1234 c0 00 00 00": 0x1234, // a future version
		"95 01 7f 2a c0 00":           42,     // unknown type
		"95 01 03 2a " + idV1 + " 00": 42,     // bad list ID
		"92 01 03 2a":                 0,      // 2 elements, then junk
		"95 01 03 ff c0 00":           0,      // negative
		"c0":                          0,
		"":                            0,
	} {
		if got := RequestIDOf([][]byte{hx(hdr)}); got != want {
			t.Errorf("RequestIDOf(%s) = %d, want %d", hdr, got, want)
		}
	}
	if RequestIDOf(nil) != 0 {
		t.Error("RequestIDOf(nil) is not 0")
	}
	// An oversize header is refused by Parse, but its TooLarge reply can
	// still be addressed.
	big := append(hx("95 01 03 2a c0 00"), make([]byte, MaxHeaderSize)...)
	if _, err := ParseHeader(big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ParseHeader of %d bytes: %v", len(big), err)
	}
	if got := RequestIDOf([][]byte{big}); got != 42 {
		t.Errorf("RequestIDOf(oversize header) = %d, want 42", got)
	}
}
