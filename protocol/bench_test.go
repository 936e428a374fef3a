package protocol

import "testing"

var benchHeader = Header{Version: Version, Type: TypeStore, RequestID: 123456789, ListID: listA, Epoch: 42}

func BenchmarkParseHeader(b *testing.B) {
	enc := benchHeader.Encode()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseHeader(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeHeader(b *testing.B) {
	buf := make([]byte, 0, MaxHeaderSize)
	b.ReportAllocs()
	for b.Loop() {
		buf = benchHeader.Append(buf[:0])
	}
}

func BenchmarkParse(b *testing.B) {
	frames := Message{Header: benchHeader, Body: listBody}.Frames()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(frames); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFrames(b *testing.B) {
	m := Message{Header: benchHeader, Body: listBody}
	b.ReportAllocs()
	for b.Loop() {
		_ = m.Frames()
	}
}
