package storage

import "testing"

func TestListHashIsFNV1a(t *testing.T) {
	// FNV-1a 64 of the empty input is its offset basis; of "a" a published
	// test vector.
	if got := ListHash(nil); got != 0xcbf29ce484222325 {
		t.Errorf("ListHash(nil) = %#x", got)
	}
	if got := ListHash([]byte("a")); got != 0xaf63dc4c8601ec8c {
		t.Errorf(`ListHash("a") = %#x`, got)
	}
}
