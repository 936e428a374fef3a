package server

import (
	"log/slog"

	"shoplist/internal/bytesize"
	"shoplist/internal/memstats"
)

// logMemory logs where the server's resident memory goes: the store's
// caches, memtables and list index (storage.Memory), the Go runtime's heap
// and stacks, and the C allocator's arenas, which hold Pebble's block
// cache and memtables and libzmq's messages. A server's memory grows with
// the lists it stores (the index) and is otherwise bounded by its caches'
// sizes, so this is what an operator reads to size a machine, or to see
// that something else is growing. Main calls it once the store is open and
// on SIGUSR1.
func (s *Server) logMemory(msg string) {
	m, err := s.store.Memory()
	if err != nil {
		s.cfg.Logger.Warn("memory report: store closed", "server", s.id, "err", err)
		return
	}
	rss, g, c := memstats.ReadResident(), memstats.ReadGoRuntime(), memstats.ReadCAllocator()
	h := func(n int64) string { return bytesize.Human(n) }
	perList := int64(0)
	if m.Lists > 0 {
		perList = rss.Total / int64(m.Lists)
	}
	s.cfg.Logger.Info(msg, "server", s.id, "lists", m.Lists, "rss", h(rss.Total), "rss_per_list", perList,
		slog.Group("rss_of", "anon", h(rss.Anon), "file", h(rss.File)),
		slog.Group("store",
			"block_cache", h(m.BlockCache), "block_cache_cap", h(m.BlockCacheCap), "blocks", m.BlockCacheBlocks,
			"tables_open", m.TableCacheTables, "table_cache", h(m.TableCache),
			"memtables", h(m.MemTables), "memtable_count", m.MemTableCount,
			"encoded", h(m.Encoded), "encoded_cap", h(m.EncodedCap), "encoded_lists", m.EncodedLists),
		slog.Group("go",
			"heap_live", h(g.HeapLive), "heap_objects", h(g.HeapObjects), "heap_free_held", h(g.HeapHeld),
			"stacks", h(g.Stacks), "other", h(g.Other), "mapped", h(g.Mapped()), "released", h(g.Released),
			"limit", h(g.Limit)),
		slog.Group("c",
			"in_use", h(c.InUse), "free_held", h(c.Free), "mapped_alone", h(c.Mapped)))
}
