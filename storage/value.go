package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"shoplist/crdt"
)

// Stored values are framed as
//
//	version (1 byte) | CRC-32C of payload (4 bytes, big-endian) | payload
//
// where the payload is the crdt encoding of one part. The version byte lets
// a later release change the framing or payload; this one reads and writes
// only valueVersion and reports anything else as corrupt.
const (
	valueVersion   = 1
	valueHeaderLen = 1 + 4
	// maxPayload bounds what decodeValue accepts: no part is larger than a
	// whole list, which crdt.Decode caps at crdt.MaxEncodedSize.
	maxPayload = crdt.MaxEncodedSize
)

// castagnoli is the CRC-32C table (hardware-accelerated on amd64 and arm64).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Errors of decodeValue; wrapped into a CorruptError by callers that know the
// key.
var (
	errShortValue   = errors.New("value shorter than its header")
	errChecksum     = errors.New("checksum mismatch")
	errValueVersion = errors.New("unknown value format version")
	errValueSize    = errors.New("value larger than any list")
)

// appendValue appends the framed form of payload to dst.
func appendValue(dst, payload []byte) []byte {
	dst = append(dst, valueVersion)
	dst = binary.BigEndian.AppendUint32(dst, crc32.Checksum(payload, castagnoli))
	return append(dst, payload...)
}

// decodeValue checks the framing of a stored value and returns its payload,
// which aliases v. It reads each byte of v at most once and never allocates
// beyond its error.
func decodeValue(v []byte) ([]byte, error) {
	switch {
	case len(v) < valueHeaderLen:
		return nil, fmt.Errorf("%w: %d bytes", errShortValue, len(v))
	case v[0] != valueVersion:
		return nil, fmt.Errorf("%w %d (this build reads version %d)", errValueVersion, v[0], valueVersion)
	case len(v)-valueHeaderLen > maxPayload:
		return nil, fmt.Errorf("%w: %d bytes", errValueSize, len(v))
	}
	payload := v[valueHeaderLen:]
	want := binary.BigEndian.Uint32(v[1:valueHeaderLen])
	if got := crc32.Checksum(payload, castagnoli); got != want {
		return nil, fmt.Errorf("%w: stored %08x, computed %08x", errChecksum, want, got)
	}
	return payload, nil
}
