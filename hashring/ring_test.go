package hashring

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
)

func TestPosition(t *testing.T) {
	// MD5("") = d41d8cd98f00b204e9800998ecf8427e; MD5("a") = 0cc175b9c0f1b6a8...
	for key, want := range map[string]uint64{"": 0xd41d8cd98f00b204, "a": 0x0cc175b9c0f1b6a8} {
		if got := Position(key); got != want {
			t.Errorf("Position(%q) = %#x, want %#x", key, got, want)
		}
	}
}

// handRing has virtual nodes at 21,22,23 (server 2), 41,42,43 (4), 61,62,63 (6).
func handRing(servers ...string) *Ring {
	return New(servers, WithHash(numHash))
}

func TestOwnersHandComputed(t *testing.T) {
	r := handRing("6", "2", "4")
	tests := []struct {
		key  string
		n    int
		want []string
	}{
		{"0", 3, []string{"2", "4", "6"}},
		{"21", 3, []string{"2", "4", "6"}}, // exactly on a vnode: that vnode owns it
		{"23", 3, []string{"2", "4", "6"}},
		{"24", 3, []string{"4", "6", "2"}},
		{"43", 3, []string{"4", "6", "2"}},
		{"44", 3, []string{"6", "2", "4"}},
		{"63", 3, []string{"6", "2", "4"}},
		{"64", 3, []string{"2", "4", "6"}}, // past the last vnode: wraps to 21
		{"999", 3, []string{"2", "4", "6"}},
		{"30", 1, []string{"4"}},
		{"30", 2, []string{"4", "6"}},
		{"30", 5, []string{"4", "6", "2"}}, // n > servers: all of them
		{"30", 0, nil},
		{"30", -1, nil},
	}
	for _, tt := range tests {
		if got := r.Owners(tt.key, tt.n); !slices.Equal(got, tt.want) {
			t.Errorf("Owners(%q, %d) = %q, want %q", tt.key, tt.n, got, tt.want)
		}
	}
	if got := r.OwnersAt(math.MaxUint64, 2); !slices.Equal(got, []string{"2", "4"}) {
		t.Errorf("OwnersAt(MaxUint64, 2) = %q, want [2 4]", got)
	}
}

// TestMovementHandComputed checks exactly which of the keys "0".."99" change
// primary owner when a server joins or leaves the hand ring 2,4,6.
func TestMovementHandComputed(t *testing.T) {
	base := handRing("2", "4", "6")
	tests := []struct {
		name   string
		next   *Ring
		moved  [][2]int // inclusive key intervals whose primary changes
		newOwn string   // their new primary
	}{
		{"add 8", base.With("8"), [][2]int{{64, 83}}, "8"},
		{"add 3", base.With("3"), [][2]int{{24, 33}}, "3"},
		{"add 1 (wraps)", base.With("1"), [][2]int{{0, 13}, {64, 99}}, "1"},
		{"remove 4", base.Without("4"), [][2]int{{24, 43}}, "6"},
		{"remove 2 (wraps)", base.Without("2"), [][2]int{{0, 23}, {64, 99}}, "4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k := range 100 {
				key := strconv.Itoa(k)
				before, after := base.Owners(key, 1)[0], tt.next.Owners(key, 1)[0]
				want := before
				for _, iv := range tt.moved {
					if iv[0] <= k && k <= iv[1] {
						want = tt.newOwn
					}
				}
				if after != want {
					t.Errorf("key %s: owner %s -> %s, want -> %s", key, before, after, want)
				}
			}
		})
	}
}

func TestVNodeLabels(t *testing.T) {
	for _, v := range []int{1, 3, 5} {
		var labels []string
		New([]string{"b", "a"}, WithVNodes(v), WithHash(func(s string) uint64 {
			labels = append(labels, s)
			return 0
		}))
		var want []string
		for _, s := range []string{"a", "b"} {
			for i := 1; i <= v; i++ {
				want = append(want, s+"-"+strconv.Itoa(i))
			}
		}
		slices.Sort(labels)
		slices.Sort(want)
		if !slices.Equal(labels, want) {
			t.Errorf("V=%d: hashed %q, want %q", v, labels, want)
		}
	}
}

func TestPositionTieBreak(t *testing.T) {
	// a-1 and b-1 collide at 10; c-1 sits at 20. The smaller ID, a, wins 10.
	h := tableHash(map[string]uint64{"a-1": 10, "b-1": 10, "c-1": 20, "k5": 5, "k10": 10, "k15": 15, "k25": 25})
	for _, order := range [][]string{{"a", "b", "c"}, {"c", "b", "a"}, {"b", "c", "a"}} {
		r := New(order, WithVNodes(1), WithHash(h))
		for key, want := range map[string][]string{
			"k5": {"a", "b", "c"}, "k10": {"a", "b", "c"}, "k15": {"c", "a", "b"}, "k25": {"a", "b", "c"},
		} {
			if got := r.Owners(key, 3); !slices.Equal(got, want) {
				t.Errorf("order %q: Owners(%s) = %q, want %q", order, key, got, want)
			}
		}
		wantRanges := []Range{{"a", 20, 10}, {"c", 10, 20}}
		if got := r.Ranges(); !slices.Equal(got, wantRanges) {
			t.Errorf("order %q: Ranges() = %v, want %v", order, got, wantRanges)
		}
		if s := r.Shares()["b"]; s != 0 {
			t.Errorf("order %q: share of b = %v, want 0", order, s)
		}
	}
}

func TestNewIgnoresOrderAndDuplicates(t *testing.T) {
	ref := New(members(5))
	keys := uuidKeys(1, 2000)
	rng := rand.New(rand.NewPCG(2, 2))
	for range 20 {
		in := append(members(5), members(3)...) // duplicates
		rng.Shuffle(len(in), func(i, j int) { in[i], in[j] = in[j], in[i] })
		r := New(in)
		if !slices.Equal(r.Servers(), ref.Servers()) || r.Len() != 5 {
			t.Fatalf("New(%q): Servers() = %q, Len() = %d", in, r.Servers(), r.Len())
		}
		for _, k := range keys {
			if got, want := r.Owners(k, 3), ref.Owners(k, 3); !slices.Equal(got, want) {
				t.Fatalf("New(%q): Owners(%s) = %q, want %q", in, k, got, want)
			}
		}
	}
}

func TestOwnersDistinct(t *testing.T) {
	keys := uuidKeys(3, 100_000)
	check := func(t *testing.T, r *Ring, keys []string) {
		want := min(3, r.Len())
		for _, k := range keys {
			got := r.Owners(k, 3)
			if len(got) != want {
				t.Fatalf("Owners(%s, 3) = %q: want %d servers", k, got, want)
			}
			for i, s := range got {
				if !slices.Contains(r.servers, s) || slices.Contains(got[:i], s) {
					t.Fatalf("Owners(%s, 3) = %q: unknown or repeated server %s", k, got, s)
				}
			}
		}
	}
	t.Run("S=5,V=3,100k", func(t *testing.T) { check(t, New(members(5)), keys) })
	for s := 1; s <= 8; s++ {
		for _, v := range []int{1, 3} {
			t.Run("S="+strconv.Itoa(s)+",V="+strconv.Itoa(v), func(t *testing.T) {
				check(t, New(members(s), WithVNodes(v)), keys[:10_000])
			})
		}
	}
}

func TestEmptyRing(t *testing.T) {
	r := New(nil)
	if got := r.Owners("x", 3); got != nil {
		t.Errorf("Owners on empty ring = %q, want nil", got)
	}
	if r.Len() != 0 || len(r.Servers()) != 0 || r.Ranges() != nil || len(r.Shares()) != 0 {
		t.Errorf("empty ring: Len %d, Servers %q, Ranges %v, Shares %v", r.Len(), r.Servers(), r.Ranges(), r.Shares())
	}
	if got := r.Without("x").With("a").Owners("x", 3); !slices.Equal(got, []string{"a"}) {
		t.Errorf("empty.With(a).Owners = %q, want [a]", got)
	}
}

func TestAccessorsAndRebuild(t *testing.T) {
	r := New([]string{"c", "a", "b"}, WithVNodes(16), WithHash(zeroHash))
	if r.VNodes() != 16 || r.Len() != 3 || !slices.Equal(r.Servers(), []string{"a", "b", "c"}) {
		t.Fatalf("VNodes %d, Len %d, Servers %q", r.VNodes(), r.Len(), r.Servers())
	}
	r.Servers()[0] = "zzz" // must not alias the ring's own slice
	if r.Servers()[0] != "a" {
		t.Fatal("Servers() exposes internal state")
	}
	r2 := r.With("d", "a").Without("b", "nope")
	if !slices.Equal(r2.Servers(), []string{"a", "c", "d"}) || r2.VNodes() != 16 {
		t.Errorf("With/Without: Servers %q VNodes %d", r2.Servers(), r2.VNodes())
	}
	if !slices.Equal(r.Servers(), []string{"a", "b", "c"}) {
		t.Errorf("With/Without mutated the original: %q", r.Servers())
	}
	// The hash option is kept: zeroHash puts every vnode at 0, so the
	// smallest ID owns every key.
	if got := r2.Owners("k", 1); !slices.Equal(got, []string{"a"}) {
		t.Errorf("rebuilt ring lost WithHash: Owners = %q", got)
	}
	if New(nil).VNodes() != DefaultVNodes || DefaultVNodes != 3 {
		t.Errorf("default VNodes = %d", New(nil).VNodes())
	}
}

func TestOptionPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"WithVNodes(0)":  func() { WithVNodes(0) },
		"WithVNodes(-1)": func() { WithVNodes(-1) },
		"WithHash(nil)":  func() { WithHash(nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f()
		}()
	}
}

// TestConcurrentReaders relies on -race: a Ring is shared without a lock, so
// no method may write to it.
func TestConcurrentReaders(t *testing.T) {
	r := New(members(5))
	keys := uuidKeys(12, 500)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for _, k := range keys {
				r.Owners(k, 3)
			}
			_ = r.String()
			_ = r.With("server-6").Without("server-1").Servers()
		})
	}
	wg.Wait()
}
