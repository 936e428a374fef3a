package protocol

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"shoplist/crdt"
)

func TestMessageRoundTrip(t *testing.T) {
	for _, s := range samples(t) {
		t.Run(s.name, func(t *testing.T) {
			if err := s.m.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			got, err := Parse(s.m.Frames())
			if err != nil {
				t.Fatalf("Parse(Frames): %v", err)
			}
			if !reflect.DeepEqual(got, s.m) {
				t.Fatalf("Parse(Frames) = %+v, want %+v", got, s.m)
			}
			h, err := ParseHeader(s.m.Header.Encode())
			if err != nil || h != s.m.Header {
				t.Fatalf("ParseHeader(Encode) = %+v, %v; want %+v", h, err, s.m.Header)
			}
			if id := RequestIDOf(s.m.Frames()); id != s.m.RequestID {
				t.Fatalf("RequestIDOf = %d, want %d", id, s.m.RequestID)
			}
		})
	}
}

// TestListBodyIsOpaque sends a real crdt encoding through and checks that it
// arrives byte for byte and still decodes.
func TestListBodyIsOpaque(t *testing.T) {
	c := crdt.NewClock(uuid.MustParse("11111111-2222-4333-8444-555555555555"))
	l, err := crdt.New(c, "groceries")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Add(c, "milk", 2); err != nil {
		t.Fatal(err)
	}
	enc := l.Encode()
	m, err := Parse(NewPush(1, l.ID(), enc).Frames())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.Body, enc) {
		t.Fatal("list body changed in transit")
	}
	if _, err := crdt.Decode(m.Body); err != nil {
		t.Fatalf("crdt.Decode after transit: %v", err)
	}
}

func TestParseAliasesBody(t *testing.T) {
	f := NewStore(1, 1, listA, append([]byte(nil), listBody...)).Frames()
	m, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	f[1][0] = 0xff
	if m.Body[0] != 0xff {
		t.Fatal("Parse copied the body; it is documented to alias frames[1]")
	}
}

func TestBodiesRoundTrip(t *testing.T) {
	check := func(name string, v, got any, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if !reflect.DeepEqual(got, v) {
			t.Errorf("%s: decoded %+v, want %+v", name, got, v)
		}
	}
	for _, b := range []ErrorBody{{CodeBadRequest, ""}, {CodeInternal, "héllo"}, {200, "future code"}} {
		enc, err := b.Encode()
		got, err2 := DecodeErrorBody(enc)
		check("ErrorBody", b, got, errorsJoin(err, err2))
	}
	for _, b := range []WelcomeBody{welcome, {PubEndpoint: "ipc:///tmp/pub"}} {
		enc, err := b.Encode()
		got, err2 := DecodeWelcomeBody(enc)
		check("WelcomeBody", b, got, errorsJoin(err, err2))
	}
	for _, b := range []SubscribeBody{{[]uuid.UUID{listA}}, {[]uuid.UUID{listB, listA}}} {
		enc, err := b.Encode()
		got, err2 := DecodeSubscribeBody(enc)
		check("SubscribeBody", b, got, errorsJoin(err, err2))
	}
	for _, b := range []ServerHelloBody{{"s1"}, {"node-7.rack_2"}, {strings.Repeat("x", MaxServerIDLen)}} {
		enc, err := b.Encode()
		got, err2 := DecodeServerHelloBody(enc)
		check("ServerHelloBody", b, got, errorsJoin(err, err2))
	}
	for _, b := range []HintBody{{"s2", listBody}, {"S", []byte{0}}} {
		enc, err := b.Encode()
		got, err2 := DecodeHintBody(enc)
		check("HintBody", b, got, errorsJoin(err, err2))
	}
	for _, b := range []PullBody{{}, {Known: 0xfeed}, {Known: 1<<64 - 1}} {
		enc, err := b.Encode()
		got, err2 := DecodePullBody(enc)
		check("PullBody", b, got, errorsJoin(err, err2))
	}
	for _, b := range []EpochBody{epochRing, {Epoch: 1, N: 1, VNodes: 1}} {
		enc, err := b.Encode()
		got, err2 := DecodeEpochBody(enc)
		check("EpochBody", b, got, errorsJoin(err, err2))
	}
}

// TestIntegerForms pins the shortest-form boundaries of the integer writer
// and checks the reader takes each back.
func TestIntegerForms(t *testing.T) {
	for _, c := range []struct {
		v    uint64
		want string
	}{
		{0, "00"}, {0x7f, "7f"}, {0x80, "cc80"}, {0xff, "ccff"}, {0x100, "cd0100"},
		{0xffff, "cdffff"}, {0x10000, "ce00010000"}, {1<<32 - 1, "ceffffffff"},
		{1 << 32, "cf0000000100000000"}, {1<<64 - 1, "cfffffffffffffffff"},
	} {
		got := appendUint(nil, c.v)
		if !bytes.Equal(got, hx(c.want)) {
			t.Errorf("appendUint(%d) = %x, want %s", c.v, got, c.want)
		}
		r := reader{b: got}
		if v := r.uint("v"); v != c.v || r.err != nil || len(r.b) != 0 {
			t.Errorf("reader.uint(%x) = %d, %v", got, v, r.err)
		}
	}
	for _, c := range []struct {
		n    int
		want string // header bytes of str, bin, array
	}{
		{0, "a0 c400 90"}, {15, "af c40f 9f"}, {16, "b0 c410 dc0010"}, {31, "bf c41f dc001f"},
		{32, "d920 c420 dc0020"}, {255, "d9ff c4ff dc00ff"}, {256, "da0100 c50100 dc0100"},
		{65535, "daffff c5ffff dcffff"}, {65536, "db00010000 c600010000 dd00010000"},
	} {
		p := make([]byte, c.n)
		got := hex.EncodeToString(appendStr(nil, string(p))[:len(appendStr(nil, string(p)))-c.n]) + " " +
			hex.EncodeToString(appendBin(nil, p)[:len(appendBin(nil, p))-c.n]) + " " +
			hex.EncodeToString(appendArrayLen(nil, c.n))
		if got != c.want {
			t.Errorf("length %d: headers %s, want %s", c.n, got, c.want)
		}
	}
}

func errorsJoin(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// TestLargestBodiesFit builds every typed body at its count and length limits
// and checks it encodes within its frame limit and decodes back.
func TestLargestBodiesFit(t *testing.T) {
	long := func(prefix string, n int) string { return prefix + strings.Repeat("x", n-len(prefix)) }
	var eps []string
	for i := range MaxEndpoints {
		eps = append(eps, long(fmt.Sprintf("tcp://%02d", i), MaxEndpointLen))
	}
	var ids []uuid.UUID
	for range MaxSubscribeLists {
		ids = append(ids, uuid.New())
	}
	var members []Member
	for i := range MaxMembers {
		members = append(members, Member{ID: long(fmt.Sprintf("s%03d", i), MaxServerIDLen), State: MemberLeaving})
	}
	hint := HintBody{Owner: long("o", MaxServerIDLen), List: make([]byte, MaxListSize)}
	var want []int
	sums := make([]BucketSum, MaxDigestBuckets)
	for i := range MaxDigestBuckets {
		want = append(want, i)
		sums[i] = BucketSum{Count: 1<<64 - 1, Sum: 1<<64 - 1}
	}
	var entries []DigestEntry
	for range MaxDigestEntries {
		entries = append(entries, DigestEntry{List: uuid.New(), Hash: 1<<64 - 1})
	}
	slices.SortFunc(entries, func(a, b DigestEntry) int { return bytes.Compare(a.List[:], b.List[:]) })
	cases := []struct {
		name   string
		enc    func() ([]byte, error)
		dec    func([]byte) error
		typ    Type
		header Header
	}{
		{"Error", ErrorBody{CodeInternal, long("", MaxErrorMessageLen)}.Encode, func(p []byte) error { _, err := DecodeErrorBody(p); return err }, TypeError, Header{}},
		{"Welcome", WelcomeBody{long("tcp://", MaxEndpointLen), eps, 1<<64 - 1}.Encode, func(p []byte) error { _, err := DecodeWelcomeBody(p); return err }, TypeWelcome, Header{RequestID: 1}},
		{"Subscribe", SubscribeBody{ids}.Encode, func(p []byte) error { _, err := DecodeSubscribeBody(p); return err }, TypeSubscribe, Header{RequestID: 1}},
		{"ServerHello", ServerHelloBody{long("s", MaxServerIDLen)}.Encode, func(p []byte) error { _, err := DecodeServerHelloBody(p); return err }, TypeServerHello, Header{RequestID: 1}},
		{"EpochAnnounce", EpochBody{1<<64 - 1, MaxReplication, MaxVNodes, members}.Encode, func(p []byte) error { _, err := DecodeEpochBody(p); return err }, TypeEpochAnnounce, Header{}},
		{"Handoff", hint.Encode, func(p []byte) error { _, err := DecodeHintBody(p); return err }, TypeHandoff, Header{RequestID: 1, ListID: listA}},
		{"ServerReport", ServerReportBody{1<<64 - 1, 1<<64 - 1, 1<<64 - 1, 1<<64 - 1, 1<<64 - 1, true}.Encode, func(p []byte) error { _, err := DecodeServerReportBody(p); return err }, TypeServerReport, Header{}},
		{"Digest", DigestBody{1<<64 - 1, 1<<64 - 2, MaxDigestBuckets, want}.Encode, func(p []byte) error { _, err := DecodeDigestBody(p); return err }, TypeDigest, Header{RequestID: 1}},
		{"Pull", PullBody{1<<64 - 1}.Encode, func(p []byte) error { _, err := DecodePullBody(p); return err }, TypePull, Header{RequestID: 1, ListID: listA}},
		{"StoreReply", StoreReplyBody{true}.Encode, func(p []byte) error { _, err := DecodeStoreReplyBody(p); return err }, TypeStoreReply, Header{RequestID: 1, ListID: listA}},
		{"DigestReply", DigestReplyBody{sums, entries, true}.Encode, func(p []byte) error { _, err := DecodeDigestReplyBody(p); return err }, TypeDigestReply, Header{RequestID: 1}},
	}
	for _, c := range cases {
		enc, err := c.enc()
		if err != nil {
			t.Errorf("%s: Encode: %v", c.name, err)
			continue
		}
		if err := c.dec(enc); err != nil {
			t.Errorf("%s: decode: %v", c.name, err)
		}
		h := c.header
		h.Version, h.Type = Version, c.typ
		if _, err := Parse(Message{Header: h, Body: enc}.Frames()); err != nil {
			t.Errorf("%s: a %d-byte body at the limits does not parse: %v", c.name, len(enc), err)
		}
	}
	// The widest header this package writes fits with room to spare.
	h := Header{Version: Version, Type: TypeEpochAnnounce, RequestID: 1<<64 - 1, ListID: listA, Epoch: 1<<64 - 1}
	if n := len(h.Encode()); n > MaxHeaderSize {
		t.Errorf("widest header is %d bytes, MaxHeaderSize is %d", n, MaxHeaderSize)
	}
	if MaxListSize != crdt.MaxEncodedSize {
		t.Errorf("MaxListSize = %d, crdt.MaxEncodedSize = %d", MaxListSize, crdt.MaxEncodedSize)
	}
}
