package testcluster

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"shoplist/cluster/membership"
	"shoplist/cluster/proxy"
	"shoplist/cluster/server"
	"shoplist/crdt"
	"shoplist/hashring"
	"shoplist/internal/curvekey"
)

// BenchmarkRebalanceJoin measures rebalancing: 4 servers hold the lists
// (each on its 3 owners), a fifth joins, and the clock runs until every
// list it now owns has been moved to it and no server has a move pending.
// It reports lists moved per second (lists whose owners now include the
// joiner, over the time until every move is done) and handoffs per second
// (move hints delivered by every server: a list that moves is sent to the
// joiner by one old owner, and the owner it replaces hands its copy to
// that one; cluster/server/move.go). Anti-entropy is off so that only
// rebalancing moves data. Run:
//
//	go test -run XXX -bench RebalanceJoin -benchtime 1x ./testing/testcluster
func BenchmarkRebalanceJoin(b *testing.B) {
	for _, lists := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("lists=%d", lists), func(b *testing.B) {
			for range b.N {
				rebalanceOnce(b, lists)
			}
		})
	}
}

func rebalanceOnce(b *testing.B, lists int) {
	b.StopTimer()
	log := FailureLogger(b)
	reg, err := membership.NewRegistry("", hashring.DefaultVNodes)
	if err != nil {
		b.Fatal(err)
	}
	key, err := curvekey.Generate()
	if err != nil {
		b.Fatal(err)
	}
	p, err := proxy.Start(context.Background(), proxy.Config{
		Membership: reg, CurveSecretKey: key.Secret,
		ClientEndpoint: "tcp://127.0.0.1:*", PubEndpoint: "tcp://127.0.0.1:*", BackendEndpoint: "tcp://127.0.0.1:*",
		Heartbeat: Heartbeat, Timeout: OpTimeout, AntiEntropyInterval: -1, Logger: log.With("role", "proxy"),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	start := func(id string) *server.Server {
		dir := b.TempDir()
		k, err := server.LoadOrCreateKey(dir)
		if err == nil {
			err = reg.Admit(context.Background(), id, k.Public)
		}
		if err != nil {
			b.Fatal(err)
		}
		s, err := server.Start(context.Background(), server.Config{
			Dir: dir, ID: id, Proxies: []string{p.Endpoints().ServerEndpoint()}, Heartbeat: Heartbeat,
			Logger: log.With("role", "server", "id", id),
		})
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	var servers []*server.Server
	defer func() {
		for _, s := range servers {
			s.Close()
		}
	}()
	ids := []string{"s0", "s1", "s2", "s3"}
	for _, id := range ids {
		servers = append(servers, start(id))
	}
	waitFor(b, "4 servers in the ring", func() bool { return len(p.Members()) == 4 && allUp(p) })
	// Preload each list on its 3 owners directly: the benchmark is about
	// the move, not the write path.
	ring := hashring.New(ids)
	byID := map[string]*server.Server{}
	for i, id := range ids {
		byID[id] = servers[i]
	}
	clock := crdt.NewClock(uuid.New())
	for i := range lists {
		l, err := crdt.New(clock, fmt.Sprintf("list %d", i))
		if err != nil {
			b.Fatal(err)
		}
		if err := l.Add(clock, "milk", 2); err != nil {
			b.Fatal(err)
		}
		for _, o := range ring.Owners(l.ID().String(), 3) {
			if _, err := byID[o].Store().SaveMerge(l); err != nil {
				b.Fatal(err)
			}
		}
	}
	waitFor(b, "the first rebalance passes", func() bool {
		for _, s := range servers {
			if st := s.Stats(); st.RebalancePasses == 0 || st.Moving != 0 {
				return false
			}
		}
		return true
	})
	before := uint64(0)
	for _, s := range servers {
		before += s.Stats().MovesDelivered
	}
	// The new ring's owners of every list: what the joiner must end with.
	newRing := ring.With("s4")
	want := 0
	for _, s := range servers {
		for _, lp := range s.Store().ListPositions() {
			if slices.Contains(newRing.OwnersAt(lp.Pos, 3), "s4") {
				want++
			}
		}
	}
	want /= 3 // each list was counted on each of its 3 old owners

	b.StartTimer()
	t0 := time.Now()
	joiner := start("s4")
	servers = append(servers, joiner)
	waitFor(b, "the joiner to hold its lists and no move pending", func() bool {
		if joiner.Stats().Lists < want {
			return false
		}
		for _, s := range servers {
			if st := s.Stats(); st.Moving != 0 || st.Epoch != joiner.Stats().Epoch {
				return false
			}
		}
		return true
	})
	elapsed := time.Since(t0)
	b.StopTimer()
	moved := uint64(0)
	for _, s := range servers {
		moved += s.Stats().MovesDelivered
	}
	moved -= before
	b.ReportMetric(float64(want)/elapsed.Seconds(), "lists_moved/s")
	b.ReportMetric(float64(want), "lists_moved")
	b.ReportMetric(float64(moved)/elapsed.Seconds(), "handoffs/s")
	b.ReportMetric(elapsed.Seconds(), "s_total")
}

// allUp reports whether the proxy sees every member up.
func allUp(p *proxy.Proxy) bool {
	for _, m := range p.Members() {
		if !m.Up {
			return false
		}
	}
	return true
}

// waitFor polls cond until it holds or a minute passes.
func waitFor(b *testing.B, what string, cond func() bool) {
	b.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
