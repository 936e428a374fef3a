package protocol

import (
	"encoding/hex"
	"reflect"
	"testing"
)

// golden pins the exact frames of one message of every type: a change here
// is a wire-format change and needs a new protocol Version.
var golden = []struct {
	name, header, body string // hex
}{
	{"Hello", "95010101c000", ""},
	{"Welcome", "95010201c009", "93b47463703a2f2f3132372e302e302e313a3535353692b47463703a2f2f3132372e302e302e313a35353535b47463703a2f2f3132372e302e302e313a36353535cf0000018bcfe56800"},
	{"Push", "95010307c4106f1c0e2a9b3d4c5e8f7011223344556600", "9501c402abcd"},
	{"Pull", "95010408c4106f1c0e2a9b3d4c5e8f7011223344556600", ""},
	{"PullKnown", "95010408c4106f1c0e2a9b3d4c5e8f7011223344556600", "91cdfeed"},
	{"Unchanged", "95010b08c4106f1c0e2a9b3d4c5e8f7011223344556600", ""},
	{"PullReply", "95010508c4106f1c0e2a9b3d4c5e8f7011223344556600", "9501c402abcd"},
	{"PullReplyNotFound", "95010508c4106f1c0e2a9b3d4c5e8f7011223344556600", ""},
	{"Subscribe", "950106cd012cc000", "9192c4106f1c0e2a9b3d4c5e8f70112233445566c4100a0b0c0d0e0f4a1b9c2d3e4f50617283"},
	{"Unsubscribe", "950107cd012dc000", "9191c4100a0b0c0d0e0f4a1b9c2d3e4f50617283"},
	{"LiveUpdate", "95010800c4106f1c0e2a9b3d4c5e8f7011223344556600", "9501c402abcd"},
	{"OK", "95010907c4106f1c0e2a9b3d4c5e8f7011223344556600", ""},
	{"OKNoList", "950109cf0000010000000000c000", ""},
	{"Error", "95010a07c000", "9206af31206f662032207265706c69636173"},
	{"ErrorUnaddressed", "95010a00c000", "9202a0"},
	{"ServerHello", "95012001c008", "91a27331"},
	{"ServerWelcome", "95012101c009", ""},
	{"Heartbeat", "95012200c009", ""},
	{"Store", "950123ce00011170c4106f1c0e2a9b3d4c5e8f7011223344556609", "9501c402abcd"},
	{"StoreReply", "950124ce00011170c4106f1c0e2a9b3d4c5e8f7011223344556600", ""},
	{"StoreReplyCreated", "950124ce00011170c4106f1c0e2a9b3d4c5e8f7011223344556600", "9101"},
	{"StoreExisting", "95012dce00011173c4106f1c0e2a9b3d4c5e8f7011223344556609", "9501c402abcd"},
	{"Fetch", "950125ce00011171c4106f1c0e2a9b3d4c5e8f7011223344556609", ""},
	{"FetchKnown", "950125ce00011171c4106f1c0e2a9b3d4c5e8f7011223344556609", "91cdfeed"},
	{"FetchReply", "950126ce00011171c4106f1c0e2a9b3d4c5e8f7011223344556600", "9501c402abcd"},
	{"FetchReplyNotFound", "950126ce00011171c4106f1c0e2a9b3d4c5e8f7011223344556600", ""},
	{"HintedStore", "950127ce00011172c4106f1c0e2a9b3d4c5e8f7011223344556609", "92a27332c4069501c402abcd"},
	{"Handoff", "95012805c4106f1c0e2a9b3d4c5e8f7011223344556609", "92a27332c4069501c402abcd"},
	{"EpochAnnounce", "95012900c009", "940903039392a273310192a273320292a2733303"},
	{"EpochAnnounceAcked", "9501290cc0cf0000000200000000", "94cf000000020000000001cd040090"},
	{"ServerReport", "95012a00c009", "96cd012c0201040101"},
	{"Digest", "95012b0dc009", "9401cf80000000000000004092003f"},
	{"Batch", "95012e00c009", "1b950123ce00011170c4106f1c0e2a9b3d4c5e8f7011223344556609069501c402abcd1b950125ce00011171c4106f1c0e2a9b3d4c5e8f701122334455660900"},
	{"DigestReply", "95012c0dc009", "93929201cdfeed9200009192c4106f1c0e2a9b3d4c5e8f70112233445566cdfeed00"},
}

func TestGoldenEncoding(t *testing.T) {
	want := map[string]int{}
	for i, g := range golden {
		want[g.name] = i
	}
	ss := samples(t)
	if len(ss) != len(golden) {
		t.Fatalf("%d samples, %d golden rows", len(ss), len(golden))
	}
	for _, s := range ss {
		i, ok := want[s.name]
		if !ok {
			t.Errorf("%s: no golden row", s.name)
			continue
		}
		g := golden[i]
		f := s.m.Frames()
		if got := hex.EncodeToString(f[0]); got != g.header {
			t.Errorf("%s header:\n got %s\nwant %s", s.name, got, g.header)
		}
		if got := hex.EncodeToString(f[1]); got != g.body {
			t.Errorf("%s body:\n got %s\nwant %s", s.name, got, g.body)
		}
	}
}

func TestGoldenDecoding(t *testing.T) {
	byName := map[string]Message{}
	for _, s := range samples(t) {
		byName[s.name] = s.m
	}
	for _, g := range golden {
		h, _ := hex.DecodeString(g.header)
		b, _ := hex.DecodeString(g.body)
		m, err := Parse([][]byte{h, b})
		if err != nil {
			t.Errorf("%s: %v", g.name, err)
			continue
		}
		if !reflect.DeepEqual(m, byName[g.name]) {
			t.Errorf("%s: parsed %+v, want %+v", g.name, m, byName[g.name])
		}
	}
}

func TestGoldenCoversEveryType(t *testing.T) {
	seen := map[Type]bool{}
	for _, s := range samples(t) {
		seen[s.m.Type] = true
	}
	for _, typ := range Types() {
		if !seen[typ] {
			t.Errorf("no golden message of type %v", typ)
		}
	}
}
