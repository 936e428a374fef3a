package protocol

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/google/uuid"
)

func TestABatchCarriesItsMessagesInOrder(t *testing.T) {
	list := uuid.New()
	msgs := []Message{
		NewStore(1, 7, list, []byte{0x95, 1}),
		NewFetch(2, 7, list),
		NewStoreExisting(3, 7, list, []byte{0x95, 2}),
	}
	var b Batcher
	for _, m := range msgs {
		if !b.Fits(m) {
			t.Fatal("three small messages do not fit one Batch")
		}
		b.Add(m)
	}
	if b.Len() != 3 {
		t.Fatalf("Len = %d after three Adds", b.Len())
	}
	m, ok := b.Take(7)
	if !ok || m.Type != TypeBatch || m.Epoch != 7 || m.RequestID != 0 {
		t.Fatalf("Take = %+v, %v; want a Batch of epoch 7", m.Header, ok)
	}
	if b.Len() != 0 {
		t.Fatal("Take left messages behind")
	}
	parsed, err := Parse(m.Frames())
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unbatch(parsed.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, msgs) {
		t.Fatalf("unbatched %+v, want %+v", got, msgs)
	}
}

func TestOneMessageTravelsAlone(t *testing.T) {
	var b Batcher
	if _, ok := b.Take(1); ok {
		t.Fatal("an empty Batcher gave a message")
	}
	f := NewFetch(9, 1, uuid.New())
	b.Add(f)
	if m, ok := b.Take(1); !ok || !reflect.DeepEqual(m, f) {
		t.Fatalf("Take = %+v; want the one message itself, not a Batch", m)
	}
}

func TestABatcherStopsAtItsLimits(t *testing.T) {
	var b Batcher
	f := NewFetch(1, 1, uuid.New())
	for range MaxBatchMessages {
		if !b.Fits(f) {
			t.Fatalf("message %d does not fit", b.Len()+1)
		}
		b.Add(f)
	}
	if b.Fits(f) {
		t.Fatalf("message %d fits; at most %d may", MaxBatchMessages+1, MaxBatchMessages)
	}
	b.Take(1)
	big := NewStore(2, 1, uuid.New(), bytes.Repeat([]byte{1}, MaxListSize))
	b.Add(big)
	if b.Fits(big) {
		t.Fatal("two lists of the largest size fit one Batch")
	}
	if !b.Fits(f) {
		t.Fatal("a Fetch does not fit beside a list of the largest size")
	}
}

func TestUnbatchRefusesWhatIsNotABatch(t *testing.T) {
	list := uuid.New()
	one := batchOf(1, NewFetch(1, 1, list), NewFetch(2, 1, list))
	entry := one.Body[:len(one.Body)/2] // the first Fetch, whole
	nested := batchOf(1, NewFetch(3, 1, list), one)
	var tooMany Batcher
	for range MaxBatchMessages {
		tooMany.Add(NewFetch(1, 1, list))
	}
	many, _ := tooMany.Take(1)
	cases := map[string][]byte{
		"empty":        nil,
		"one message":  entry,
		"truncated":    one.Body[:len(one.Body)-1],
		"length past":  append([]byte{0x7f}, one.Body[1:]...),
		"bad header":   append(append([]byte{}, one.Body...), 0x01, 0x00, 0x00),
		"nested Batch": nested.Body,
		"too many":     append(append([]byte{}, many.Body...), entry...),
		"too large":    make([]byte, MaxBatchBodySize+1),
	}
	for name, body := range cases {
		if _, err := Unbatch(body); err == nil {
			t.Errorf("%s: Unbatch accepted it", name)
		} else if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrUnsupportedVersion) {
			t.Errorf("%s: %v wraps neither ErrMalformed nor ErrTooLarge", name, err)
		}
	}
}
