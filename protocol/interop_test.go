package protocol

import (
	"reflect"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// These tests check the hand-written codec against an independent msgpack
// implementation, so the wire format is plain msgpack that any library reads
// and writes.

func TestInteropHeaderDecodesElsewhere(t *testing.T) {
	var got []any
	if err := msgpack.Unmarshal(NewStore(70000, 9, listA, listBody).Header.Encode(), &got); err != nil {
		t.Fatal(err)
	}
	want := []any{int8(1), int8(TypeStore), uint32(70000), listA[:], int8(9)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("vmihailenco reads %#v, want %#v", got, want)
	}
	var hello []any
	if err := msgpack.Unmarshal(NewHello(1).Header.Encode(), &hello); err != nil || len(hello) != 5 || hello[3] != nil {
		t.Fatalf("absent list ID reads as %#v, %v; want nil", hello, err)
	}
}

// wireHeader is how a Go peer using vmihailenco/msgpack reflection would
// declare the header.
type wireHeader struct {
	_msgpack  struct{} `msgpack:",as_array"`
	Version   uint8
	Type      uint8
	RequestID uint64
	ListID    []byte
	Epoch     uint64
}

func TestInteropHeaderEncodedElsewhere(t *testing.T) {
	for _, w := range []wireHeader{
		{Version: 1, Type: uint8(TypeFetch), RequestID: 5, ListID: listA[:], Epoch: 1 << 40},
		{Version: 1, Type: uint8(TypeHeartbeat), Epoch: 2},
	} {
		b, err := msgpack.Marshal(&w)
		if err != nil {
			t.Fatal(err)
		}
		h, err := ParseHeader(b)
		if err != nil {
			t.Fatalf("ParseHeader(%x): %v", b, err)
		}
		if uint8(h.Type) != w.Type || h.RequestID != w.RequestID || h.Epoch != w.Epoch || (w.ListID != nil && h.ListID != listA) {
			t.Fatalf("ParseHeader(%x) = %+v, want %+v", b, h, w)
		}
	}
	// Generic values, as a dynamically typed peer would send them.
	b, err := msgpack.Marshal([]any{1, int64(TypePull), int32(77), listA[:], 0})
	if err != nil {
		t.Fatal(err)
	}
	if h, err := ParseHeader(b); err != nil || h.RequestID != 77 || h.ListID != listA {
		t.Fatalf("ParseHeader(%x) = %+v, %v", b, h, err)
	}
}

type wireMember struct {
	_msgpack struct{} `msgpack:",as_array"`
	ID       string
	State    uint8
}

type wireEpoch struct {
	_msgpack struct{} `msgpack:",as_array"`
	Epoch    uint64
	N        uint8
	VNodes   uint16
	Members  []wireMember
}

func TestInteropBodies(t *testing.T) {
	we := wireEpoch{Epoch: epochRing.Epoch, N: epochRing.N, VNodes: epochRing.VNodes}
	for _, m := range epochRing.Members {
		we.Members = append(we.Members, wireMember{ID: m.ID, State: uint8(m.State)})
	}
	b, err := msgpack.Marshal(&we)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := DecodeEpochBody(b); err != nil || !reflect.DeepEqual(got, epochRing) {
		t.Fatalf("DecodeEpochBody(%x) = %+v, %v", b, got, err)
	}
	enc, _ := epochRing.Encode()
	var back wireEpoch
	if err := msgpack.Unmarshal(enc, &back); err != nil || !reflect.DeepEqual(back, we) {
		t.Fatalf("vmihailenco reads our epoch body as %+v, %v", back, err)
	}

	enc, _ = welcome.Encode()
	var w []any
	if err := msgpack.Unmarshal(enc, &w); err != nil {
		t.Fatal(err)
	}
	want := []any{welcome.PubEndpoint, []any{welcome.Endpoints[0], welcome.Endpoints[1]}, welcome.Now}
	if !reflect.DeepEqual(w, want) {
		t.Fatalf("vmihailenco reads our welcome body as %#v, want %#v", w, want)
	}

	hint, _ := HintBody{Owner: "s2", List: listBody}.Encode()
	var h []any
	if err := msgpack.Unmarshal(hint, &h); err != nil || !reflect.DeepEqual(h, []any{"s2", listBody}) {
		t.Fatalf("vmihailenco reads our hint body as %#v, %v", h, err)
	}
}
