package storage

import "hash/fnv"

// ListHash is the hash of a list's canonical encoding (the bytes
// LoadEncoded returns and a FetchReply carries): 64-bit FNV-1a. It is part
// of the protocol: anti-entropy digests carry it per list and sum it (mod
// 2^64) per bucket (docs/PROTOCOL.md, Digest), so every replica must compute
// it bit for bit alike. It is protocol.StateHash, by which a Pull names the
// state a client holds; this package does not speak the protocol, so the
// three lines are repeated here, and both tests pin the same values.
// Canonical encodings make equal states byte-identical (crdt.List.Encode),
// so replicas holding the same state have equal hashes. The list index
// keeps each stored list's hash until the list is written (index.go).
func ListHash(enc []byte) uint64 {
	h := fnv.New64a()
	h.Write(enc)
	return h.Sum64()
}
