package replica

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/vmihailenco/msgpack/v5"

	"shoplist/crdt"
)

func sampleRecord(t testing.TB) *record {
	c := crdt.NewClock(uuid.MustParse("11111111-2222-4333-8444-555555555555"))
	l, err := crdt.New(c, "Weekly")
	if err != nil {
		t.Fatal(err)
	}
	l.Add(c, "milk", 2)
	l.Add(c, "eggs", 12)
	return &record{list: l, seq: 3, dirty: map[string]uint64{"": 1, "milk": 3}, lastSync: 1700000000000}
}

func TestRecordRoundTrip(t *testing.T) {
	r := sampleRecord(t)
	data, err := r.encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeRecord(r.list.ID(), data)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	again, _ := got.encode()
	if !bytes.Equal(again, data) || got.seq != 3 || got.dirty["milk"] != 3 || got.lastSync != r.lastSync {
		t.Fatalf("round trip changed the record: %+v", got)
	}
}

func TestRecordRejects(t *testing.T) {
	r := sampleRecord(t)
	good, _ := r.encode()
	cases := map[string][]byte{
		"empty":     {},
		"truncated": good[:len(good)-3],
		"trailing":  append(append([]byte{}, good...), 0),
		"not array": {0x01},
	}
	bad := *r
	bad.dirty = map[string]uint64{"milk": 9} // edit number beyond seq
	cases["future edit number"], _ = bad.encode()
	for name, data := range cases {
		if _, err := decodeRecord(r.list.ID(), data); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
	if _, err := decodeRecord(uuid.New(), good); !errors.Is(err, ErrCorrupt) {
		t.Errorf("record under another list's name: %v, want ErrCorrupt", err)
	}
}

// FuzzDecodeRecord checks the decoder never panics, and that whatever it
// accepts re-encodes to the same bytes (it accepts only canonical records).
func FuzzDecodeRecord(f *testing.F) {
	r := sampleRecord(f)
	good, _ := r.encode()
	f.Add(good)
	f.Add([]byte{0x95, 0x01, 0xc4, 0x00, 0x00, 0x90, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := decodeRecord(r.list.ID(), data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		again, err := got.encode()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, data) {
			// Only a list in an earlier format is rewritten: then the
			// record, read back, is canonical and holds the same state.
			back, err := decodeRecord(r.list.ID(), again)
			if err != nil || !bytes.Equal(back.list.Encode(), got.list.Encode()) {
				t.Fatalf("accepted a non-canonical record: %x re-encodes to %x (%v)", data, again, err)
			}
			if again2, _ := back.encode(); !bytes.Equal(again2, again) {
				t.Fatalf("an upgraded record does not re-encode to itself: %x", again)
			}
		}
	})
}

func TestRecordRejectsWideIntegers(t *testing.T) {
	r := sampleRecord(t)
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.EncodeArrayLen(5)
	enc.EncodeUint(recordVersion)
	enc.EncodeBytes(r.list.Encode())
	enc.EncodeUint64(3) // 9-byte form of a small number
	enc.EncodeArrayLen(0)
	enc.EncodeInt(0)
	if _, err := decodeRecord(r.list.ID(), buf.Bytes()); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("wide integer accepted: %v", err)
	}
}
