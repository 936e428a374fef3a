// Package storage keeps lists durably in a per-node directory.
//
// A [Store] owns one directory: storage servers use <data>/<server-id>/ and
// clients their own data directory. Both run the same engine, a Pebble
// LSM-tree in <dir>/pebble, so there is one storage format, one set of crash
// guarantees and one set of tests; a client's replica is simply a small store.
// The directory is locked against a second process (see [ErrLocked]).
//
// # Layout
//
// A list is cut into parts with crdt.List.Split: one part for the name and one
// per item, each stored under its own key, so that merging a one-item delta
// reads and writes one small value instead of the whole list:
//
//	'l' | ring position (8, big-endian) | list ID (16) | 0x00            name part
//	'l' | ring position (8, big-endian) | list ID (16) | 0x01 | item key  item part
//
// The ring position is hashring.Position of the list ID, so a range of the
// hash ring is a range of keys and every list's parts are contiguous. Each
// value is a format version byte, the CRC-32C (Castagnoli) of the payload and
// the payload, which is the crdt encoding of the part (see value.go). Other
// prefixes hold the quarantine ('q'), markers of damaged lists ('d'), hints
// for down owners ('h', hints.go) and store metadata ('m').
//
// # Writes and durability
//
// [Store.SaveMerge] is the one write: it merges an incoming state into what is
// stored, part by part, and returns only once the result is durable. See
// save.go for the locking and sync strategy that lets concurrent writers share
// fsyncs. [Store.SaveMergeIf] checks a caller's condition under the list's
// lock before it writes, and [Store.Fence] waits for the writes checked so
// far (fence.go): a server refuses a Store for a list its ring no longer
// gives it, and a rebalance pass misses none that was checked before.
//
// # Reads
//
// [Store.Load] decodes and merges a list's parts from one snapshot.
// [Store.LoadEncoded] returns the same state's canonical encoding without
// decoding it: from a cache of encodings bounded by bytes, which every write
// brings up to date under the list's lock, splicing in the parts it stored
// (enccache.go, patch.go), or, on a miss, by
// concatenating the verified stored parts (encoded.go). A server answers
// fetches with it.
//
// # The list index, digests and move hints
//
// Every stored list is also in an index in memory (index.go): its ring
// position, a write version bumped by every change to it, and the hash of
// its canonical encoding that anti-entropy digests sum ([crdt.StateHash], part of
// the protocol; computed when first asked for, forgotten by each write). It
// gives the counts a server reports each second ([Store.ListCount]) and the
// digests of a ring range ([Store.Digests]) without a scan. Hints ('h')
// come in two kinds: for a down owner ([Store.SaveHinted], capped by
// Options.MaxHints) and, for rebalancing after a ring change, move hints
// ([Store.Rehint], not capped). [Store.LoadHinted] reads the state to
// deliver for a hint and [Store.DropHint] drops the hint once delivered
// and, when asked, the copy: drop.go states, and proves, the one rule for
// when a copy may go.
//
// # Corruption
//
// A value that fails its checksum or does not decode as the part its key names
// is never served, and its raw bytes are copied into the quarantine. A store
// opened with Options.SelfHeal (storage servers) then drops it if its bytes
// are damaged (they fail their checksum) and goes on with what is left of the
// list, which the other replicas make whole again by merging (heal.go); any
// other corrupt value, or any corrupt value in a store that does not heal,
// makes reads and writes of its list fail with an error matching
// [ErrCorrupt], and the list stays refused until an operator runs
// [Store.Repair] (drop the corrupt parts, keep the rest) or [Store.Discard]
// (drop the whole list); the other replicas then rebuild it. See corrupt.go.
//
// Corrupt engine files (a table that fails Pebble's checksums) make Open fail
// with [ErrStoreCorrupt], or, with Options.SetAsideCorrupt, move the engine
// aside beside the store's directory and open an empty store (aside.go).
package storage
