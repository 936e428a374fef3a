package storage

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/bloom"
)

// Defaults for a store opened without sizes (tools, tests): storage
// servers size their caches from their own setting (server --cache, 64 MiB
// by default), since at a million stored lists a 256 MiB block cache was
// most of a server's memory. Five stores with these defaults use at most
// about 5 × (256 + 2×16) MiB ≈ 1.4 GiB for caches and memtables.
const (
	DefaultCacheSize    = 256 << 20 // bytes of block cache per store
	DefaultMemTableSize = 16 << 20  // bytes per memtable (Pebble keeps up to two)
	defaultMaxOpenFiles = 500       // per store; five stores stay well under 4096
	// DefaultMaxHints bounds a store's hint records: a server standing in
	// for down owners keeps at most this many (list, owner) hints.
	DefaultMaxHints = 100_000
)

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// CacheSize is the block cache size in bytes; 0 means DefaultCacheSize.
	CacheSize int64
	// MemTableSize is the memtable size in bytes; 0 means
	// DefaultMemTableSize.
	MemTableSize uint64
	// Logger receives the engine's messages: routine ones at Debug level,
	// background errors, slow disks and write stalls at Warn, and fatal ones
	// at Error (after which the engine panics). Nil means slog.Default(), so
	// by default only warnings and errors are printed.
	Logger *slog.Logger
	// EncodedCacheSize bounds, in bytes, the cache of canonical list
	// encodings that LoadEncoded serves from; 0 means
	// DefaultEncodedCacheSize and a negative size disables the cache.
	EncodedCacheSize int64
	// MaxHints bounds the hint records for down owners (one per list and
	// intended owner) that SaveHinted keeps; 0 means DefaultMaxHints. A
	// full store refuses new hints with ErrHintsFull. Move hints (Rehint)
	// are not counted.
	MaxHints int
	// Owner describes this process in the directory lock, for the error a
	// second process gets (e.g. "client" or "server s1"). Empty means the
	// program name.
	Owner string
	// TombstoneHorizon, if positive, makes every write raise the list's
	// floor to about that long ago (see horizonFloor), so the list forgets
	// what removes before then cancelled (crdt/compact.go). Storage
	// servers set it (90 days by default); a client's store leaves it 0 and
	// takes the floor its lists arrive with.
	TombstoneHorizon time.Duration
	// Now reads the clock for TombstoneHorizon; nil means time.Now.
	Now func() time.Time
	// SelfHeal makes the store drop a corrupt value whose bytes are
	// damaged (keeping its copy in the quarantine) instead of refusing its
	// list until an operator acts, so that the list takes writes again at
	// once (heal.go). For a replica whose lists other replicas also hold:
	// storage servers set it.
	SelfHeal bool
	// SetAsideCorrupt makes Open, when the engine's files are corrupt, move
	// them aside and start with an empty store instead of failing
	// (aside.go). Storage servers set it: the other owners refill them.
	SetAsideCorrupt bool
}

// pebbleOptions returns the engine options for o. The caller must Unref the
// returned cache once the DB is open (the DB holds its own reference).
func (o Options) pebbleOptions(log *slog.Logger) (*pebble.Options, func()) {
	cacheSize := o.blockCacheSize()
	memTable := o.MemTableSize
	if memTable == 0 {
		memTable = DefaultMemTableSize
	}
	cache := pebble.NewCache(cacheSize)
	po := &pebble.Options{
		Cache:        cache,
		MemTableSize: memTable,
		MaxOpenFiles: defaultMaxOpenFiles,
		// Pinned rather than FormatNewest, so that upgrading Pebble never
		// silently ratchets a store's on-disk format past what the previous
		// release can read.
		FormatMajorVersion: pebble.FormatPrePebblev1MarkedCompacted,
		Logger:             pebbleLogger{log},
		EventListener: &pebble.EventListener{
			BackgroundError: func(err error) { log.Warn("storage engine background error", "err", err) },
			DiskSlow: func(info pebble.DiskSlowInfo) {
				log.Warn("storage engine: slow disk", "info", info.String())
			},
			WriteStallBegin: func(info pebble.WriteStallBeginInfo) {
				log.Warn("storage engine: write stall", "reason", info.Reason)
			},
		},
	}
	// SaveMerge reads single parts with point lookups, so bloom filters
	// spare it most sstable reads for absent keys.
	po.Levels = make([]pebble.LevelOptions, 7)
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	po.EnsureDefaults()
	return po, func() { cache.Unref() }
}

// blockCacheSize returns the block cache's bound in bytes.
func (o Options) blockCacheSize() int64 {
	if o.CacheSize <= 0 {
		return DefaultCacheSize
	}
	return o.CacheSize
}

// owner returns the lock owner description.
func (o Options) owner() string {
	if o.Owner != "" {
		return o.Owner
	}
	return filepath.Base(os.Args[0])
}

// pebbleLogger adapts slog to Pebble's logger: Pebble's informational
// chatter goes to Debug so that a store does not spam stderr.
type pebbleLogger struct{ log *slog.Logger }

// Infof logs at Debug level.
func (l pebbleLogger) Infof(format string, args ...any) {
	if l.log.Enabled(context.Background(), slog.LevelDebug) {
		l.log.Debug("storage engine: " + fmt.Sprintf(format, args...))
	}
}

// Fatalf logs at Error level and panics: Pebble calls it only when it cannot
// continue (for instance, a failed WAL fsync), and must not return.
func (l pebbleLogger) Fatalf(format string, args ...any) {
	msg := "storage engine fatal error: " + fmt.Sprintf(format, args...)
	l.log.Error(msg)
	panic(msg)
}
