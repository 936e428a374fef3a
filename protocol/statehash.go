package protocol

import "hash/fnv"

// StateHash is the hash of a list's canonical encoding (the bytes a
// PullReply, a FetchReply or a crdt.List.Encode carry): 64-bit FNV-1a. It
// is part of the protocol: a Pull's PullBody names the state the client
// holds by it, and anti-entropy digests carry it per list and sum it (mod
// 2^64) per bucket, so every peer must compute it bit for bit alike.
// Canonical encodings make equal states byte-identical, so equal states
// have equal hashes. storage.ListHash, the hash a server keeps per list,
// is the same function (storage does not import this package).
func StateHash(enc []byte) uint64 {
	h := fnv.New64a()
	h.Write(enc)
	return h.Sum64()
}
