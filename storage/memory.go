package storage

// Memory is what a store holds in memory, in bytes unless named otherwise:
// the parts an operator sizes (the block cache, the cache of encodings,
// the memtables) and the parts that grow with the lists stored (the list
// index). Pebble allocates its block cache and memtables with the C
// allocator, outside the Go heap; the cache of encodings and the index are
// in the Go heap.
type Memory struct {
	BlockCache, BlockCacheCap int64 // Pebble's block cache: held, and its bound
	BlockCacheBlocks          int64 // blocks in it (data, index and filter blocks)
	TableCache                int64 // open sstable readers (Pebble's own estimate)
	TableCacheTables          int64 // sstables open
	MemTables                 int64 // memtables, including those being flushed
	MemTableCount             int64
	Encoded, EncodedCap       int64 // the cache of encodings: held, and its bound
	EncodedLists              int   // lists in it
	Lists                     int   // entries of the list index
}

// Memory reports what the store holds in memory now.
func (s *Store) Memory() (Memory, error) {
	if err := s.begin(); err != nil {
		return Memory{}, err
	}
	defer s.end()
	m := s.db.Metrics()
	enc, encLists := s.encoded.usage()
	return Memory{
		BlockCache:       m.BlockCache.Size,
		BlockCacheCap:    s.cacheCap,
		BlockCacheBlocks: m.BlockCache.Count,
		TableCache:       m.TableCache.Size,
		TableCacheTables: m.TableCache.Count,
		MemTables:        int64(m.MemTable.Size + m.MemTable.ZombieSize),
		MemTableCount:    m.MemTable.Count + m.MemTable.ZombieCount,
		Encoded:          enc,
		EncodedCap:       s.encoded.max,
		EncodedLists:     encLists,
		Lists:            s.ListCount(),
	}, nil
}
