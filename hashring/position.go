package hashring

import (
	"crypto/md5"
	"encoding/binary"
)

// Position returns the ring position of a key: the first 8 bytes of the MD5
// digest of the key, read as a big-endian unsigned integer. List IDs are
// hashed in their canonical string form (lower-case, hyphenated).
func Position(key string) uint64 {
	// A stack buffer keeps the conversion off the heap for keys up to 64
	// bytes (UUIDs are 36), which Go's own 32-byte buffer does not cover.
	var buf [64]byte
	sum := md5.Sum(append(buf[:0], key...))
	return binary.BigEndian.Uint64(sum[:8])
}
