package server

import (
	"errors"
	"io"
	"testing"

	"shoplist/internal/curvekey"
)

// TestTheCacheSettingIsValidated: zero means the default, less than
// MinCache is refused naming the field, and the flag reads sizes with
// units and refuses one under the least.
func TestTheCacheSettingIsValidated(t *testing.T) {
	base := Config{Dir: t.TempDir(), Proxies: []string{curvekey.JoinEndpoint("tcp://127.0.0.1:1", newKeyPair(t).Public)}}
	c, err := base.withDefaults()
	if err != nil || c.Cache != DefaultCache {
		t.Fatalf("zero cache: %d, %v; want %d", c.Cache, err, DefaultCache)
	}
	small := base
	small.Cache = MinCache - 1
	if _, err := small.withDefaults(); !errors.Is(err, ErrConfig) {
		t.Fatalf("cache under MinCache: %v, want ErrConfig", err)
	}
	small.Cache = MinCache
	if c, err := small.withDefaults(); err != nil || c.Cache != MinCache {
		t.Fatalf("cache of MinCache: %d, %v", c.Cache, err)
	}

	endpoint := curvekey.JoinEndpoint("tcp://127.0.0.1:1", newKeyPair(t).Public)
	cfg, _, err := parseFlags([]string{"--data", t.TempDir(), "--proxy", endpoint, "--cache", "96MiB"}, io.Discard)
	if err != nil || cfg.Cache != 96<<20 {
		t.Fatalf("--cache 96MiB: %d, %v", cfg.Cache, err)
	}
	if cfg, _, err := parseFlags([]string{"--data", t.TempDir(), "--proxy", endpoint}, io.Discard); err != nil || cfg.Cache != DefaultCache {
		t.Fatalf("no --cache: %d, %v; want %d", cfg.Cache, err, DefaultCache)
	}
	for _, bad := range []string{"1MiB", "lots", "-1"} {
		if _, _, err := parseFlags([]string{"--data", t.TempDir(), "--proxy", endpoint, "--cache", bad}, io.Discard); err == nil {
			t.Errorf("--cache %s accepted", bad)
		}
	}
}

// TestTheCacheIsSharedAndTheLimitFollowsIt: the two caches share the
// setting exactly, and the soft memory limit grows with the setting and
// with the memory budget.
func TestTheCacheIsSharedAndTheLimitFollowsIt(t *testing.T) {
	for _, cache := range []int64{MinCache, DefaultCache, 1 << 30, 100_000_003} {
		b, e := blockCache(cache), encodedCache(cache)
		if b+e != cache || e <= 0 || b < e {
			t.Errorf("cache %d: block %d + encodings %d", cache, b, e)
		}
	}
	small := memoryLimit(Config{Cache: DefaultCache, MemoryBudget: DefaultMemoryBudget})
	if small < encodedCache(DefaultCache)+DefaultMemoryBudget/2 {
		t.Errorf("limit %d leaves no room for the encodings and half the budget", small)
	}
	if memoryLimit(Config{Cache: 2 * DefaultCache, MemoryBudget: DefaultMemoryBudget}) <= small ||
		memoryLimit(Config{Cache: DefaultCache, MemoryBudget: 2 * DefaultMemoryBudget}) <= small {
		t.Error("the limit does not grow with the cache and the budget")
	}
}
