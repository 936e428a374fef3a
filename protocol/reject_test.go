package protocol

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// hx decodes hex, ignoring spaces, and panics on bad input (tests only).
func hx(s string) []byte {
	s = strings.ReplaceAll(s, " ", "")
	out := make([]byte, len(s)/2)
	for i := range out {
		var v byte
		for _, c := range s[2*i : 2*i+2] {
			switch {
			case '0' <= c && c <= '9':
				v = v<<4 | byte(c-'0')
			case 'a' <= c && c <= 'f':
				v = v<<4 | byte(c-'a'+10)
			default:
				panic("bad hex " + s)
			}
		}
		out[i] = v
	}
	return out
}

const (
	idA   = "c410 6f1c0e2a9b3d4c5e8f70112233445566" // listA as bin 16
	idB   = "c410 0a0b0c0d0e0f4a1b9c2d3e4f50617283" // listB
	idV1  = "c410 6f1c0e2a9b3d1c5e8f70112233445566" // version 1
	idVar = "c410 6f1c0e2a9b3d4c5e0f70112233445566" // NCS variant
	idNil = "c410 00000000000000000000000000000000"
)

func TestParseRejects(t *testing.T) {
	push := func(header string) [][]byte { return [][]byte{hx(header), listBody} }
	big := func(n int) []byte { return make([]byte, n) }
	pushHdr := hx("95 01 03 07 " + idA + " 00")
	cases := []struct {
		name   string
		frames [][]byte
		want   error
	}{
		{"no frames", nil, ErrMalformed},
		{"one frame", [][]byte{pushHdr}, ErrMalformed},
		{"three frames", [][]byte{pushHdr, listBody, nil}, ErrMalformed},
		{"header too large", [][]byte{big(MaxHeaderSize + 1), listBody}, ErrTooLarge},
		{"empty header", [][]byte{nil, listBody}, ErrMalformed},
		{"header is a map", push("81 01 01"), ErrMalformed},
		{"header is nil", push("c0"), ErrMalformed},
		{"empty array", push("90"), ErrMalformed},
		{"version 0", push("95 00 03 07 " + idA + " 00"), ErrUnsupportedVersion},
		{"version 2", push("95 02 03 07 " + idA + " 00"), ErrUnsupportedVersion},
		{"version 2 with 7 fields", push("97 02 03 07 c0 00 00 00"), ErrUnsupportedVersion},
		{"version 257", push("95 cd0101 03 07 " + idA + " 00"), ErrUnsupportedVersion},
		{"4 fields", push("94 01 03 07 " + idA), ErrMalformed},
		{"6 fields", push("96 01 03 07 " + idA + " 00 00"), ErrMalformed},
		{"array16 of 6", push("dc0006 01 03 07 " + idA + " 00 00"), ErrMalformed},
		{"type 0", push("95 01 00 07 c0 00"), ErrUnknownType},
		{"type 12", push("95 01 0c 07 c0 00"), ErrUnknownType},
		{"type 255", push("95 01 ccff 07 c0 00"), ErrUnknownType},
		{"type 259", push("95 01 cd0103 07 c0 00"), ErrUnknownType},
		{"negative fixint request ID", push("95 01 03 ff " + idA + " 00"), ErrMalformed},
		{"negative int8 request ID", push("95 01 03 d0ff " + idA + " 00"), ErrMalformed},
		{"negative int64 epoch", push("95 01 03 07 " + idA + " d3ffffffffffffffff"), ErrMalformed},
		{"float request ID", push("95 01 03 ca3f800000 " + idA + " 00"), ErrMalformed},
		{"bool epoch", push("95 01 03 07 " + idA + " c3"), ErrMalformed},
		{"list ID as str", push("95 01 03 07 b0 6f1c0e2a9b3d4c5e8f70112233445566 00"), ErrMalformed},
		{"list ID of 15 bytes", push("95 01 03 07 c40f 6f1c0e2a9b3d4c5e8f701122334455 00"), ErrInvalidID},
		{"list ID of 17 bytes", push("95 01 03 07 c411 6f1c0e2a9b3d4c5e8f7011223344556677 00"), ErrInvalidID},
		{"nil UUID as bin", push("95 01 03 07 " + idNil + " 00"), ErrInvalidID},
		{"version 1 UUID", push("95 01 03 07 " + idV1 + " 00"), ErrInvalidID},
		{"wrong UUID variant", push("95 01 03 07 " + idVar + " 00"), ErrInvalidID},
		{"push without list ID", push("95 01 03 07 c0 00"), ErrInvalidID},
		{"hello with list ID", [][]byte{hx("95 01 01 07 " + idA + " 00"), nil}, ErrMalformed},
		{"push with request ID 0", push("95 01 03 00 " + idA + " 00"), ErrMalformed},
		{"heartbeat with request ID", [][]byte{hx("95 01 22 05 c0 00"), nil}, ErrMalformed},
		{"trailing byte in header", push("95 01 03 07 " + idA + " 00 00"), ErrMalformed},
		{"truncated uint64", push("95 01 03 cf000000"), ErrMalformed},
		{"push with empty body", [][]byte{pushHdr, nil}, ErrMalformed},
		{"push over MaxListSize", [][]byte{pushHdr, big(MaxListSize + 1)}, ErrTooLarge},
		{"pull over MaxControlBodySize", [][]byte{hx("95 01 04 07 " + idA + " 00"), big(MaxControlBodySize + 1)}, ErrTooLarge},
		{"unchanged with a body", [][]byte{hx("95 01 0b 07 " + idA + " 00"), {0x90}}, ErrMalformed},
		{"unchanged without list ID", [][]byte{hx("95 01 0b 07 c0 00"), nil}, ErrInvalidID},
		{"unchanged with request ID 0", [][]byte{hx("95 01 0b 00 " + idA + " 00"), nil}, ErrMalformed},
		{"subscribe without body", [][]byte{hx("95 01 06 07 c0 00"), nil}, ErrMalformed},
		{"subscribe over MaxControlBodySize", [][]byte{hx("95 01 06 07 c0 00"), big(MaxControlBodySize + 1)}, ErrTooLarge},
		{"handoff over MaxHintBodySize", [][]byte{hx("95 01 28 07 " + idA + " 00"), big(MaxHintBodySize + 1)}, ErrTooLarge},
		{"pull reply over MaxListSize", [][]byte{hx("95 01 05 07 " + idA + " 00"), big(MaxListSize + 1)}, ErrTooLarge},
	}
	for _, c := range cases {
		m, err := Parse(c.frames)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: Parse error = %v, want %v", c.name, err, c.want)
		}
		if err != nil && (m.Type != 0 || m.Body != nil) {
			t.Errorf("%s: Parse returned %+v with its error", c.name, m)
		}
	}
	// Every proper prefix of a valid header is malformed, never a panic.
	for i := range len(pushHdr) {
		if _, err := ParseHeader(pushHdr[:i]); !errors.Is(err, ErrMalformed) {
			t.Errorf("prefix %x: error %v, want ErrMalformed", pushHdr[:i], err)
		}
	}
	// Exactly at the limits is fine.
	if _, err := Parse([][]byte{pushHdr, big(MaxListSize)}); err != nil {
		t.Errorf("push of MaxListSize bytes: %v", err)
	}
}

// TestHeaderAcceptsWideIntegers: integers in wider forms than needed (as
// vmihailenco/msgpack writes uint64 struct fields, for one) are accepted and
// mean the same as the shortest form; so are non-negative signed forms.
func TestHeaderAcceptsWideIntegers(t *testing.T) {
	want := Header{Version: 1, Type: TypePush, RequestID: 7, ListID: listA, Epoch: 3}
	for _, s := range []string{
		"95 cc01 cd0003 cf0000000000000007 " + idA + " ce00000003",
		"dc0005 d001 d10003 d30000000000000007 c50010 6f1c0e2a9b3d4c5e8f70112233445566 d200000003",
		"dd00000005 01 03 07 c6000000106f1c0e2a9b3d4c5e8f70112233445566 03",
	} {
		h, err := ParseHeader(hx(s))
		if err != nil || h != want {
			t.Errorf("ParseHeader(%s) = %+v, %v; want %+v", s, h, err, want)
		}
	}
}

func TestBodyDecodersReject(t *testing.T) {
	decoders := map[string]func([]byte) error{
		"error":       func(p []byte) error { _, err := DecodeErrorBody(p); return err },
		"welcome":     func(p []byte) error { _, err := DecodeWelcomeBody(p); return err },
		"subscribe":   func(p []byte) error { _, err := DecodeSubscribeBody(p); return err },
		"serverhello": func(p []byte) error { _, err := DecodeServerHelloBody(p); return err },
		"hint":        func(p []byte) error { _, err := DecodeHintBody(p); return err },
		"epoch":       func(p []byte) error { _, err := DecodeEpochBody(p); return err },
	}
	ep := "b4 7463703a2f2f3132372e302e302e313a35353536" // "tcp://127.0.0.1:5556"
	strN := func(n int) string { return "da" + hexU16(n) + strings.Repeat("61", n) }
	arrayOf := func(n int, elem string) string { return "dc" + hexU16(n) + strings.Repeat(elem, n) }
	cases := []struct {
		dec, name, body string
		want            error
	}{
		{"error", "empty", "", ErrMalformed},
		{"error", "code 0", "92 00 a0", ErrMalformed},
		{"error", "code 256", "92 cd0100 a0", ErrMalformed},
		{"error", "3 fields", "93 01 a0 00", ErrMalformed},
		{"error", "message too long", "92 01 " + strN(MaxErrorMessageLen+1), ErrTooLarge},
		{"error", "message not UTF-8", "92 01 a2 c328", ErrMalformed},
		{"error", "message as bin", "92 01 c401 61", ErrMalformed},
		{"error", "trailing byte", "92 01 a0 00", ErrMalformed},
		{"error", "str claims 4 GiB", "92 01 dbffffffff 61", ErrTooLarge},
		{"welcome", "17 endpoints", "93 " + ep + " dc0011" + strings.Repeat(ep, 17) + " 00", ErrTooLarge},
		{"welcome", "endpoint too long", "93 " + strN(MaxEndpointLen+1) + " 90 00", ErrTooLarge},
		{"welcome", "endpoint without scheme", "93 a3 616263 90 00", ErrMalformed},
		{"welcome", "empty endpoint", "93 a0 90 00", ErrMalformed},
		{"welcome", "endpoint with space", "93 a8 7463703a2f2f2061 90 00", ErrMalformed},
		{"welcome", "endpoints nil", "93 " + ep + " c0 00", ErrMalformed},
		{"welcome", "array claims 2^32-1 elements", "93 " + ep + " ddffffffff 00", ErrMalformed},
		{"subscribe", "no IDs", "91 90", ErrMalformed},
		{"subscribe", "too many IDs", "91 " + arrayOf(MaxSubscribeLists+1, strings.ReplaceAll(idA, " ", "")), ErrTooLarge},
		{"subscribe", "repeated ID", "91 92 " + idA + idA, ErrMalformed},
		{"subscribe", "nil UUID", "91 91 " + idNil, ErrInvalidID},
		{"subscribe", "version 1 UUID", "91 92 " + idB + idV1, ErrInvalidID},
		{"subscribe", "msgpack nil ID", "91 91 c0", ErrMalformed},
		{"subscribe", "short ID", "91 91 c401 00", ErrInvalidID},
		{"subscribe", "IDs not in an array", "91 " + idA, ErrMalformed},
		{"serverhello", "empty ID", "91 a0", ErrInvalidID},
		{"serverhello", "space in ID", "91 a3 612062", ErrInvalidID},
		{"serverhello", "leading dash", "91 a2 2d61", ErrInvalidID},
		{"serverhello", "non-ASCII", "91 a2 c3a9", ErrInvalidID},
		{"serverhello", "ID too long", "91 " + strN(MaxServerIDLen+1), ErrTooLarge},
		{"serverhello", "2 fields", "92 a2 7331 00", ErrMalformed},
		{"serverhello", "body too large", "91 " + strN(MaxControlBodySize), ErrTooLarge},
		{"hint", "empty list", "92 a2 7332 c400", ErrMalformed},
		{"hint", "list as str", "92 a2 7332 a1 00", ErrMalformed},
		{"hint", "bad owner", "92 a1 2e c401 00", ErrInvalidID},
		{"hint", "list claims more than it has", "92 a2 7332 c6000000ff 00", ErrMalformed},
		{"epoch", "epoch 0", "94 00 03 03 90", ErrMalformed},
		{"epoch", "N 0", "94 01 00 03 90", ErrMalformed},
		{"epoch", "N 17", "94 01 11 03 90", ErrMalformed},
		{"epoch", "N 2^40", "94 01 cf0000010000000000 03 90", ErrMalformed},
		{"epoch", "vnodes 0", "94 01 03 00 90", ErrMalformed},
		{"epoch", "vnodes 1025", "94 01 03 cd0401 90", ErrMalformed},
		{"epoch", "unsorted members", "94 01 03 03 92 92a2733201 92a2733101", ErrMalformed},
		{"epoch", "repeated member", "94 01 03 03 92 92a2733101 92a2733102", ErrMalformed},
		{"epoch", "unknown state", "94 01 03 03 91 92a2733105", ErrMalformed},
		{"epoch", "state 0", "94 01 03 03 91 92a2733100", ErrMalformed},
		{"epoch", "member with 3 fields", "94 01 03 03 91 93a273310100", ErrMalformed},
		{"epoch", "too many members", "94 01 03 03 " + arrayOf(MaxMembers+1, "92a2733101"), ErrTooLarge},
		{"epoch", "bad member ID", "94 01 03 03 91 92a2732f01", ErrInvalidID},
	}
	for _, c := range cases {
		err := decoders[c.dec](hx(c.body))
		if !errors.Is(err, c.want) {
			t.Errorf("%s body, %s: error = %v, want %v", c.dec, c.name, err, c.want)
		}
	}
}

func hexU16(n int) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[n>>12&15], digits[n>>8&15], digits[n>>4&15], digits[n&15]})
}

func TestBodyEncodersReject(t *testing.T) {
	cases := []struct {
		name string
		enc  func() ([]byte, error)
		want error
	}{
		{"error code 0", ErrorBody{0, "x"}.Encode, ErrMalformed},
		{"error message too long", ErrorBody{CodeInternal, strings.Repeat("x", MaxErrorMessageLen+1)}.Encode, ErrTooLarge},
		{"error message not UTF-8", ErrorBody{CodeInternal, "\xff"}.Encode, ErrMalformed},
		{"welcome without PUB endpoint", WelcomeBody{}.Encode, ErrMalformed},
		{"welcome with too many endpoints", WelcomeBody{PubEndpoint: "tcp://a:1", Endpoints: make([]string, MaxEndpoints+1)}.Encode, ErrTooLarge},
		{"subscribe to nothing", SubscribeBody{}.Encode, ErrMalformed},
		{"subscribe twice to a list", SubscribeBody{Lists: []uuid.UUID{listA, listA}}.Encode, ErrMalformed},
		{"subscribe to a nil ID", SubscribeBody{Lists: []uuid.UUID{{}}}.Encode, ErrInvalidID},
		{"server hello without ID", ServerHelloBody{}.Encode, ErrInvalidID},
		{"hint without list", HintBody{Owner: "s1"}.Encode, ErrMalformed},
		{"hint with bad owner", HintBody{Owner: "s 1", List: listBody}.Encode, ErrInvalidID},
		{"epoch with unsorted members", EpochBody{1, 3, 3, []Member{{"b", MemberUp}, {"a", MemberUp}}}.Encode, ErrMalformed},
		{"epoch with unknown state", EpochBody{1, 3, 3, []Member{{"a", 9}}}.Encode, ErrMalformed},
	}
	for _, c := range cases {
		if b, err := c.enc(); !errors.Is(err, c.want) || b != nil {
			t.Errorf("%s: Encode = %x, %v; want nil, %v", c.name, b, err, c.want)
		}
	}
}

func TestSplitRouting(t *testing.T) {
	msg := NewPull(3, listA).Frames()
	id := []byte{0, 1, 2, 3, 4}
	in := append([][]byte{id}, msg...)
	identity, rest, err := SplitRouting(in)
	if err != nil || len(identity) != 1 || !bytes.Equal(identity[0], id) || len(rest) != 2 {
		t.Fatalf("SplitRouting = %x, %d frames, %v", identity, len(rest), err)
	}
	// A reply appended to identity must not overwrite the request's frames.
	reply := NewPullReply(3, listA, listBody).AppendFrames(identity)
	if !bytes.Equal(rest[0], msg[0]) || len(reply) != 3 || !bytes.Equal(reply[0], id) {
		t.Fatal("appending a reply to identity clobbered the request")
	}
	if got, err := Parse(reply[1:]); err != nil || got.Type != TypePullReply {
		t.Fatalf("reply frames parse as %+v, %v", got, err)
	}
	for name, frames := range map[string][][]byte{
		"no identity":        msg,
		"empty delimiter":    append([][]byte{{}}, msg...),
		"two identities":     append([][]byte{id, id}, msg...),
		"identity too long":  append([][]byte{make([]byte, MaxIdentitySize+1)}, msg...),
		"nothing":            nil,
		"identity only":      {id},
		"identity and 1 msg": {id, msg[0]},
	} {
		if i, r, err := SplitRouting(frames); !errors.Is(err, ErrMalformed) || i != nil || r != nil {
			t.Errorf("%s: SplitRouting = %x, %x, %v; want ErrMalformed", name, i, r, err)
		}
	}
}

func TestValidateRejects(t *testing.T) {
	v1 := uuid.MustParse("6f1c0e2a-9b3d-1c5e-8f70-112233445566")
	withVersion := func(m Message, v uint8) Message { m.Version = v; return m }
	withReq := func(m Message, id uint64) Message { m.RequestID = id; return m }
	for _, c := range []struct {
		name string
		m    Message
		want error
	}{
		{"zero value", Message{}, ErrUnsupportedVersion},
		{"version 2", withVersion(NewHello(1), 2), ErrUnsupportedVersion},
		{"unknown type", Message{Header: Header{Version: Version, Type: 99, RequestID: 1}}, ErrUnknownType},
		{"push without list", NewPush(1, uuid.Nil, listBody), ErrInvalidID},
		{"push of a v1 list", NewPush(1, v1, listBody), ErrInvalidID},
		{"OK naming a v1 list", NewOK(1, v1), ErrInvalidID},
		{"push without body", NewPush(1, listA, nil), ErrMalformed},
		{"live update with request ID", withReq(NewLiveUpdate(listA, listBody), 3), ErrMalformed},
		{"hello without request ID", NewHello(0), ErrMalformed},
		{"oversize store", NewStore(1, 1, listA, make([]byte, MaxListSize+1)), ErrTooLarge},
	} {
		if err := c.m.Validate(); !errors.Is(err, c.want) {
			t.Errorf("%s: Validate = %v, want %v", c.name, err, c.want)
		}
		if _, err := Parse(c.m.Frames()); !errors.Is(err, c.want) {
			t.Errorf("%s: Parse(Frames) = %v, want %v", c.name, err, c.want)
		}
	}
}

// A Pull's body is empty (Parse takes it; it is no PullBody) or [known]:
// one unsigned integer of any width; anything else is refused.
func TestPullBody(t *testing.T) {
	for _, c := range []struct {
		name  string
		body  string
		known uint64
		want  error
	}{
		{"known", "91 cdfeed", 0xfeed, nil},
		{"known 0", "91 00", 0, nil},
		{"known 2^64-1", "91 cf ffffffffffffffff", 1<<64 - 1, nil},
		{"wide integer", "91 cf 000000000000feed", 0xfeed, nil},
		{"empty", "", 0, ErrMalformed},
		{"no fields", "90", 0, ErrMalformed},
		{"two fields", "92 01 01", 0, ErrMalformed},
		{"not an array", "cdfeed", 0, ErrMalformed},
		{"a string", "91 a1 31", 0, ErrMalformed},
		{"nil", "91 c0", 0, ErrMalformed},
		{"negative", "91 ff", 0, ErrMalformed},
		{"truncated", "91 cf 0000", 0, ErrMalformed},
		{"trailing bytes", "91 01 00", 0, ErrMalformed},
	} {
		b, err := DecodePullBody(hx(c.body))
		if !errors.Is(err, c.want) || b.Known != c.known {
			t.Errorf("%s: DecodePullBody = %+v, %v; want known %#x, %v", c.name, b, err, c.known, c.want)
		}
	}
	if _, err := DecodePullBody(make([]byte, MaxControlBodySize+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("an oversize pull body decodes: %v", err)
	}
	// With or without a body, a Pull goes through Parse as it was built.
	for _, m := range []Message{NewPull(3, listA), NewPullKnown(3, listA, 0), NewPullKnown(3, listA, 1<<64-1), NewUnchanged(3, listA)} {
		got, err := Parse(m.Frames())
		if err != nil || !bytes.Equal(got.Body, m.Body) || got.Header != m.Header {
			t.Errorf("%v %x: Parse = %+v, %v", m.Type, m.Body, got, err)
			continue
		}
		if m.Type != TypePull || m.Body == nil {
			continue
		}
		if b, err := DecodePullBody(got.Body); err != nil || !bytes.Equal(NewPullKnown(3, listA, b.Known).Body, m.Body) {
			t.Errorf("Pull body %x decodes to %+v, %v", m.Body, b, err)
		}
	}
}

// A StoreReply's body is empty or [created], created 0 or 1; anything
// else is refused, and an empty body reads as "not created".
func TestStoreReplyBody(t *testing.T) {
	for _, c := range []struct {
		name    string
		body    string
		created bool
		want    error
	}{
		{"empty", "", false, nil},
		{"created", "91 01", true, nil},
		{"not created", "91 00", false, nil},
		{"created 2", "91 02", false, ErrMalformed},
		{"two fields", "92 01 01", false, ErrMalformed},
		{"a string", "91 a1 31", false, ErrMalformed},
		{"trailing bytes", "91 01 00", false, ErrMalformed},
		{"wide integer", "91 cf 0000000000000001", true, nil},
	} {
		b, err := DecodeStoreReplyBody(hx(c.body))
		if !errors.Is(err, c.want) || (err == nil && b.Created != c.created) {
			t.Errorf("%s: DecodeStoreReplyBody = %+v, %v; want created %v, %v", c.name, b, err, c.created, c.want)
		}
	}
	if _, err := Parse(Message{Header: Header{Version: Version, Type: TypeStoreReply, RequestID: 1, ListID: listA},
		Body: make([]byte, MaxControlBodySize+1)}.Frames()); !errors.Is(err, ErrTooLarge) {
		t.Errorf("an oversize StoreReply body parses: %v", err)
	}
}
