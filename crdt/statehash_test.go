package crdt

import "testing"

// StateHash is 64-bit FNV-1a: every peer must compute it alike.
func TestStateHashIsFNV1a(t *testing.T) {
	if got := StateHash(nil); got != 0xcbf29ce484222325 {
		t.Errorf("StateHash(nil) = %#x", got)
	}
	if got := StateHash([]byte("a")); got != 0xaf63dc4c8601ec8c {
		t.Errorf(`StateHash("a") = %#x`, got)
	}
}
