package crdt

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// goldenList builds a small fixed list with every kind of state: a name, a
// present item with counts, a tombstone.
func goldenList(t testing.TB) *List {
	r := newReplica(1, 0)
	l := r.list
	for _, err := range []error{
		l.Rename(r.clock, "Weekend"),
		l.Add(r.clock, "Milk", 2),
		l.Buy(r.clock, "milk", 1),
		l.Add(r.clock, "Eggs", 1),
		l.Remove(r.clock, "eggs"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return l
}

func TestEncodingIsPinned(t *testing.T) {
	got := hex.EncodeToString(goldenList(t).Encode())
	if got != goldenListHex {
		t.Fatalf("list encoding changed:\n got %s\nwant %s", got, goldenListHex)
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	l := goldenList(t)
	back, err := Decode(l.Encode())
	must(t, err)
	sameBytes(t, "round trip", back, l)
	if back.MaxStamp() != l.MaxStamp() {
		t.Fatalf("max stamp %+v, want %+v", back.MaxStamp(), l.MaxStamp())
	}
	if v := mustItem(t, back, "MILK"); v.Wanted != 2 || v.Bought != 1 {
		t.Fatalf("decoded milk %+v", v)
	}
}

// enc builds hand-made encodings for the rejection table.
func enc(t *testing.T, vals ...any) []byte {
	var buf bytes.Buffer
	e := msgpack.NewEncoder(&buf)
	for _, v := range vals {
		must(t, e.Encode(v))
	}
	return buf.Bytes()
}

func TestDecodeRejectsBadInput(t *testing.T) {
	good := goldenList(t).Encode()
	ts := func(wall int64, rep byte) []byte {
		return Timestamp{Wall: wall, Replica: replicaID(rep)}.appendBinary(nil)
	}
	zero := make([]byte, timestampSize)
	id := listID[:]
	slotOK := []any{ts(5, 1), 1, 0, 0, 0}
	itemWith := func(key, display string, added, removed []byte, slots ...[]any) []any {
		s := make([]any, len(slots))
		for i := range slots {
			s[i] = slots[i]
		}
		return []any{key, display, ts(5, 1), added, removed, s}
	}
	// Cases in format version 1 check its reader, which converts.
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"not an array", enc(t, "hello"), ErrMalformed},
		{"trailing bytes", append(bytes.Clone(good), 0xc0), ErrMalformed},
		{"truncated", good[:len(good)-3], ErrMalformed},
		{"future version", enc(t, []any{3, id, "", zero, []any{}}), ErrMalformed},
		{"short array", enc(t, []any{1, id, "", zero}), ErrMalformed},
		{"nil ID", enc(t, []any{1, make([]byte, 16), "", zero, []any{}}), ErrMalformed},
		{"version 1 UUID", enc(t, []any{1, bytes.Repeat([]byte{0x11}, 16), "", zero, []any{}}), ErrMalformed},
		{"short ID", enc(t, []any{1, id[:8], "", zero, []any{}}), ErrMalformed},
		{"name without stamp", enc(t, []any{1, id, "x", zero, []any{}}), ErrMalformed},
		{"over-long name", enc(t, []any{1, id, strings.Repeat("x", MaxNameBytes+1), ts(1, 1), []any{}}), ErrMalformed},
		{"control in name", enc(t, []any{1, id, "a\x1b[31m", ts(1, 1), []any{}}), ErrMalformed},
		{"bad UTF-8", enc(t, []any{1, id, "a\xff", ts(1, 1), []any{}}), ErrMalformed},
		{"negative wall", enc(t, []any{1, id, "x", Timestamp{Wall: -5}.appendBinary(nil), []any{}}), ErrMalformed},
		{"wall at the top of int64", enc(t, []any{1, id, "x", Timestamp{Wall: 1<<63 - 1}.appendBinary(nil), []any{}}), ErrMalformed},
		{"wall past the year 9999", enc(t, []any{1, id, "x", Timestamp{Wall: MaxWall + 1}.appendBinary(nil), []any{}}), ErrMalformed},
		{"logical at its top", enc(t, []any{1, id, "x", Timestamp{Wall: 5, Logical: 1<<32 - 1}.appendBinary(nil), []any{}}), ErrMalformed},
		{"too many items claimed", append(append([]byte{0x95}, enc(t, 1, id, "", zero)...), 0xdd, 0xff, 0xff, 0xff, 0xff), ErrTooLarge},
		{"items out of order", enc(t, []any{1, id, "", zero, []any{itemWith("b", "b", ts(5, 1), zero), itemWith("a", "a", ts(5, 1), zero)}}), ErrMalformed},
		{"duplicate item", enc(t, []any{1, id, "", zero, []any{itemWith("a", "a", ts(5, 1), zero), itemWith("a", "a", ts(5, 1), zero)}}), ErrMalformed},
		{"never added", enc(t, []any{1, id, "", zero, []any{itemWith("a", "a", zero, zero)}}), ErrMalformed},
		{"slot after last edit", enc(t, []any{1, id, "", zero, []any{itemWith("a", "a", ts(4, 1), zero, slotOK)}}), ErrMalformed},
		{"dead slot", enc(t, []any{1, id, "", zero, []any{itemWith("a", "a", ts(9, 1), ts(7, 1), slotOK)}}), ErrMalformed},
		{"zero slot stamp", enc(t, []any{1, id, "", zero, []any{itemWith("a", "a", ts(9, 1), zero, []any{zero, 1, 0, 0, 0})}}), ErrMalformed},
		{"slots repeated", enc(t, []any{1, id, "", zero, []any{itemWith("a", "a", ts(9, 1), zero, slotOK, slotOK)}}), ErrMalformed},
		{"counter too big", enc(t, []any{1, id, "", zero, []any{itemWith("a", "a", ts(9, 1), zero, []any{ts(5, 1), uint64(MaxCounter + 1), 0, 0, 0})}}), ErrMalformed},
		{"negative counter", enc(t, []any{1, id, "", zero, []any{itemWith("a", "a", ts(9, 1), zero, []any{ts(5, 1), -1, 0, 0, 0})}}), ErrMalformed},
		{"oversize input", make([]byte, MaxEncodedSize+1), ErrTooLarge},
	}
	for _, tc := range cases {
		l, err := Decode(tc.data)
		if !errors.Is(err, tc.want) || l != nil {
			t.Errorf("%s: got (%v, %v), want %v", tc.name, l != nil, err, tc.want)
		}
	}
	// The well-formed single-item state from the table's own parts decodes,
	// so the rejections above are about what they name.
	if _, err := Decode(enc(t, []any{1, id, "", zero, []any{itemWith("a", "a", ts(9, 1), zero, slotOK)}})); err != nil {
		t.Fatalf("control case rejected: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(goldenList(f).Encode())
	f.Add(signedDeletedList(f).Encode())
	s := newSim(nil, 7)
	for range 60 {
		s.edit(s.replicas[0])
	}
	f.Add(s.replicas[0].list.Encode())
	f.Add(Empty(listID).Encode())
	if v1, err := hex.DecodeString(goldenListV1Hex); err == nil {
		f.Add(v1)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Decode(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		// Whatever decodes is a valid state: it re-encodes canonically,
		// merges with itself to itself, and accepts edits.
		once := l.Encode()
		again, err := Decode(once)
		if err != nil {
			t.Fatalf("re-encoding does not decode: %v", err)
		}
		if !bytes.Equal(again.Encode(), once) {
			t.Fatal("encoding is not canonical")
		}
		j, err := Join(l, again)
		if err != nil || !bytes.Equal(j.Encode(), once) {
			t.Fatalf("self-merge changed the state (%v)", err)
		}
		for _, v := range l.Items() {
			if v.Remaining < 0 || v.Wanted < 0 || v.Bought < 0 {
				t.Fatalf("negative view %+v", v)
			}
		}
	})
}

func FuzzNormalize(f *testing.F) {
	for _, n := range names {
		f.Add(n)
	}
	f.Add("ǅ ǈ ﬀ ẞ İ ς")
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if Normalize(n) != n {
			t.Fatalf("Normalize not idempotent on %q: %q then %q", s, n, Normalize(n))
		}
	})
}

// goldenListHex pins the list encoding of goldenList: a change here is a
// wire and disk format change that needs a new FormatVersion.
const goldenListHex = "9602c4103f8a4c1e5b7d4e2a9c610d2b8e7f4a10a75765656b656e64c41c000001a1fdfa460000000000aa000000000000000000000000000001c0929ca465676773a445676773c41c000001a1fdfa460000000003aa000000000000000000000000000001a0c0a0c0c41c000001a1fdfa460000000004aa000000000000000000000000000001c09196c41c000001a1fdfa460000000003aa000000000000000000000000000001c0010000009197c41c000001a1fdfa460000000003aa000000000000000000000000000001c0c41c000001a1fdfa460000000004aa00000000000000000000000000000101000000c09ca46d696c6ba44d696c6bc41c000001a1fdfa460000000001aa000000000000000000000000000001a0c0a0c0c0c09196c41c000001a1fdfa460000000002aa000000000000000000000000000001c00200010090c0"

// goldenListV1Hex is goldenList as format version 1 wrote it.
const goldenListV1Hex = "9501c4103f8a4c1e5b7d4e2a9c610d2b8e7f4a10a75765656b656e64c41c000001a1fdfa460000000000aa0000000000000000000000000000019296a465676773a445676773c41c000001a1fdfa460000000003aa000000000000000000000000000001c41c000001a1fdfa460000000003aa000000000000000000000000000001c41c000001a1fdfa460000000004aa0000000000000000000000000000019096a46d696c6ba44d696c6bc41c000001a1fdfa460000000001aa000000000000000000000000000001c41c000001a1fdfa460000000002aa000000000000000000000000000001c41c000000000000000000000000000000000000000000000000000000009195c41c000001a1fdfa460000000002aa00000000000000000000000000000102000100"

func TestDecodeDoesNotAllocateWhatALengthClaims(t *testing.T) {
	// A bin header claiming 3.6 GB where the list ID belongs: the decoder
	// must refuse it from the length alone.
	data := []byte("\x95\x01\xc6\xd8\xc4\x10\x30000000A0")
	allocs := testing.AllocsPerRun(1, func() { _, _ = Decode(data) })
	var ms runtimeMem
	ms.before()
	if _, err := Decode(data); !errors.Is(err, ErrMalformed) {
		t.Fatalf("got %v, want ErrMalformed", err)
	}
	if grew := ms.after(); grew > 1<<20 {
		t.Fatalf("decoding a 16-byte input allocated %d bytes (%v allocs)", grew, allocs)
	}
}
