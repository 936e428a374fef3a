package server

import (
	"os"
	"runtime/debug"
)

// The store's caches, sized from one setting (Config.Cache, `--cache`).
// A server's resident memory is its caches plus what grows with the lists
// it stores (the list index, 40 bytes a list) plus what it holds for
// requests in flight; the caches were fixed at 256 MiB of block cache and
// 64 MiB of encodings, which alone came to 560 bytes a list at 600,000
// lists. What the caches buy is bounded by the working set of lists, not
// by the number stored: a Fetch of a list that was not written since it
// was last read is answered from the cache of encodings, and a write reads
// one item through the block cache (the index and filter blocks of the
// tables, and the data block of the item).

// DefaultCache is the bytes of cache a server's store uses when
// Config.Cache is zero: enough for the index and filter blocks of a store
// of a few million lists and the encodings of some thousands of lists in
// use, so that a server of a million stored lists or so stays within
// about 400 bytes a list all told.
const DefaultCache = 64 << 20

// MinCache is the least cache a server accepts: below it the block cache
// cannot keep the index and filter blocks of a store in use, and every
// read goes to the disk.
const MinCache = 8 << 20

// encodedShare is the part of the cache given to the cache of encodings;
// the rest is Pebble's block cache. A Fetch served from the encodings is
// answered in the socket loop without touching the engine, so the share
// is large enough for the lists in use; the block cache takes the rest,
// since every write and every miss of the encodings goes through it.
const encodedShare = 4 // one quarter

// blockCache returns the block cache's share of cache bytes.
func blockCache(cache int64) int64 { return cache - encodedCache(cache) }

// encodedCache returns the cache of encodings' share of cache bytes.
func encodedCache(cache int64) int64 { return cache / encodedShare }

// memoryLimit returns the Go runtime's soft memory limit for a server with
// cfg: the Go heap holds the cache of encodings, the requests and replies
// the memory budget counts, and the list index; the block cache and the
// memtables are outside it (the C allocator's). Half the budget, as for
// the proxy, covers what the budget counts and the garbage it leaves, and
// the encodings' share is added as it is: the limit then stops the heap
// from doubling its live size before a collection once the live heap is
// large, without binding while the server is small.
func memoryLimit(cfg Config) int64 {
	return encodedCache(cfg.Cache) + cfg.MemoryBudget/2
}

// limitMemory sets the Go runtime's soft memory limit for cfg unless
// GOMEMLIMIT sets one, and returns a function that puts back the limit it
// replaced (for Main run in a test's process).
func limitMemory(cfg Config) (restore func()) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	was := debug.SetMemoryLimit(memoryLimit(cfg))
	return func() { debug.SetMemoryLimit(was) }
}
