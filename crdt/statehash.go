package crdt

import "hash/fnv"

// StateHash is the hash of a list's canonical encoding (the bytes Encode
// returns, and a FetchReply or PullReply carries): 64-bit FNV-1a.
// Canonical encodings make equal states byte-identical, so equal states
// have equal hashes. It is part of the wire protocol, so every peer must
// compute it bit for bit alike: anti-entropy digests carry it per list and
// sum it (mod 2^64) per bucket, a server's list index keeps it per stored
// list, and a Pull names by it the state the client holds.
func StateHash(enc []byte) uint64 {
	h := fnv.New64a()
	h.Write(enc)
	return h.Sum64()
}
