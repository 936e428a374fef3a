package proxy

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"shoplist/hashring"
	"shoplist/protocol"
)

func TestStatusShowsTheRingAndEveryServer(t *testing.T) {
	p := startProxy(t, func(c *Config) { c.N, c.W, c.R = 2, 1, 2 })
	fakes := joinServers(t, p, 4)
	if err := p.Remove("s4"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the removal", func() bool { return !p.view.Load().Has("s4") })
	// Still connected, no longer a member: its removal revoked its key,
	// so the proxy forgot it and refuses what it sends.
	fakes["s4"].heartbeat()
	waitFor(t, "s4's heartbeat refused", func() bool { return statusOf(t, p).Counters.NotAdmitted > 0 })

	st := statusOf(t, p)
	ring := p.view.Load().Ring
	if st.Epoch != 5 || st.N != 2 || st.VNodes != hashring.DefaultVNodes || !st.Leader ||
		st.Endpoints != p.Endpoints() || !slices.Equal(st.Proxies, []string{p.Endpoints().ClientEndpoint()}) {
		t.Fatalf("status header %+v", st)
	}
	var ids []string
	share := 0.0
	for _, s := range st.Servers {
		ids = append(ids, s.ID)
		if s.State != "active" || !s.Up || s.LastSeen.IsZero() || s.Reported {
			t.Errorf("%s: %+v, want active, up, seen, not reported", s.ID, s)
		}
		if !slices.Equal(s.Positions, ring.Positions(s.ID)) || len(s.Positions) != hashring.DefaultVNodes {
			t.Errorf("%s: positions %v, want its %d vnodes %v", s.ID, s.Positions, hashring.DefaultVNodes, ring.Positions(s.ID))
		}
		if !slices.Equal(s.Ranges, ring.OwnedRanges(s.ID, 2)) || len(s.Ranges) == 0 {
			t.Errorf("%s: ranges %v, want %v", s.ID, s.Ranges, ring.OwnedRanges(s.ID, 2))
		}
		for _, pos := range s.Positions {
			if !slices.ContainsFunc(s.Ranges, func(g hashring.Range) bool { return g.Contains(pos) }) {
				t.Errorf("%s: its vnode at %d is outside the ranges it owns", s.ID, pos)
			}
		}
		share += s.Share
	}
	if !slices.Equal(ids, []string{"s1", "s2", "s3"}) {
		t.Fatalf("servers %v, want s1..s3 sorted", ids)
	}
	// Every position has N = 2 owners: the shares add up to 2.
	if math.Abs(share-2) > 1e-9 {
		t.Fatalf("shares add up to %v, want 2", share)
	}
	if st.Counters.Announced == 0 || st.AntiEntropy.Rounds != 0 || st.Counters.HandshakesAdmitted != 4 || st.Counters.HandshakesRefused != 0 {
		t.Fatalf("counters %+v, anti-entropy %+v", st.Counters, st.AntiEntropy)
	}
	raw, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"epoch":5`, `"ranges":[{"server":"s1"`, `"anti_entropy":`, `"state":"active"`} {
		if !strings.Contains(string(raw), key) {
			t.Errorf("JSON status lacks %s: %s", key, raw)
		}
	}
}

// TestStatusShowsWhatAServerReportsOfCorruption: the heals, damaged lists
// and empty-store restart a server reports reach the status.
func TestStatusShowsWhatAServerReportsOfCorruption(t *testing.T) {
	p := startProxy(t, nil)
	fakes := joinServers(t, p, 3)
	sendReport(t, fakes["s2"], 0, protocol.ServerReportBody{Lists: 7, Healed: 3, Damaged: 1, Reset: true})
	waitFor(t, "s2's report", func() bool {
		for _, s := range statusOf(t, p).Servers {
			if s.ID == "s2" {
				return s.Reported && s.Lists == 7 && s.Healed == 3 && s.Damaged == 1 && s.Reset
			}
		}
		return false
	})
	for _, s := range statusOf(t, p).Servers {
		if s.ID != "s2" && (s.Healed != 0 || s.Damaged != 0 || s.Reset) {
			t.Errorf("%s: %+v, want nothing of corruption", s.ID, s)
		}
	}
}
