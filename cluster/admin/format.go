package admin

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"shoplist/cluster/membership"
	"shoplist/cluster/proxy"
	"shoplist/internal/bytesize"
)

// perLine is how many ring positions or ranges WriteStatus prints on a line.
const (
	positionsPerLine = 4
	rangesPerLine    = 2
)

// WriteStatus writes st as `proxy status` prints it: the Raft group (leader
// and voters, with the proxies' addresses), the committed ring, then each
// server as the answering proxy sees it (state, up or down, lists, hints,
// share of the ring) and, server by server, its virtual-node positions and
// the ranges it owns.
func WriteStatus(w io.Writer, st Status) error {
	bw := bufio.NewWriter(w)
	m := st.Membership
	leader := m.LeaderID
	if leader == "" {
		leader = "none known"
	}
	fmt.Fprintf(bw, "asked:   proxy %s at %s (%s, term %d, applied %d/%d)\n", m.ID, st.Admin, m.RaftState, m.Term, m.AppliedIndex, m.CommitIndex)
	fmt.Fprintf(bw, "leader:  %s %s\n", leader, m.LeaderAddr)
	writeVoters(bw, m, st.Proxies)
	active, leaving := 0, 0
	for _, mem := range m.Members {
		if mem.State == membership.Leaving {
			leaving++
		} else {
			active++
		}
	}
	fmt.Fprintf(bw, "ring:    epoch %d, N %d, %d virtual nodes per server, %d active, %d leaving, %d removed\n",
		m.Epoch, m.N, m.VNodes, active, leaving, len(m.Removed))
	if len(m.Removed) > 0 {
		fmt.Fprintf(bw, "removed: %s\n", strings.Join(m.Removed, " "))
	}
	writeAdmitted(bw, m)
	if st.Proxy == nil {
		fmt.Fprintf(bw, "servers: unknown: %s\n", st.ProxyError)
		return flush(bw)
	}
	p := st.Proxy
	if p.Epoch != m.Epoch {
		fmt.Fprintf(bw, "note:    the proxy routes under epoch %d (catching up)\n", p.Epoch)
	}
	writeClients(bw, p)
	writeBackend(bw, p)
	writeMemory(bw, p)
	writeServers(bw, p, m)
	writeAntiEntropy(bw, p)
	for _, s := range p.Servers {
		writeServerDetail(bw, s)
	}
	return flush(bw)
}

func flush(bw *bufio.Writer) error {
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("admin: writing the status: %w", err)
	}
	return nil
}

// writeVoters writes the Raft voters with the addresses the proxies
// recorded, and whether each answers the proxy asked (UP, LAST CONTACT).
func writeVoters(w io.Writer, m membership.Status, health []ProxyHealth) {
	proxies := map[string]membership.ProxyInfo{}
	for _, p := range m.Proxies {
		proxies[p.ID] = p
	}
	healthOf := map[string]ProxyHealth{}
	for _, h := range health {
		healthOf[h.ID] = h
	}
	fmt.Fprintf(w, "raft:    %s\n", plural(len(m.Voters), "voter", "voters"))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  PROXY\tROLE\tUP\tLAST CONTACT\tRAFT\tADMIN\tCLIENT")
	for _, v := range m.Voters {
		role := "follower"
		if v.ID == m.LeaderID {
			role = "leader"
		}
		up, last := "?", "-"
		if h, ok := healthOf[v.ID]; ok {
			up, last = "down", ago(h.LastContact)
			if h.Up {
				up = "up"
			}
		}
		p := proxies[v.ID]
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.ID, role, up, last, v.Addr, dash(p.Admin), dash(p.Client))
	}
	_ = tw.Flush() // w is a bufio.Writer: errors show at its Flush
}

// writeAdmitted writes the storage servers admitted to the backend, with
// their keys.
func writeAdmitted(w io.Writer, m membership.Status) {
	fmt.Fprintf(w, "admitted: %d servers may connect to the backend, each with its CURVE key\n", len(m.Admitted))
	if len(m.Admitted) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  SERVER\tKEY")
	for _, a := range m.Admitted {
		fmt.Fprintf(tw, "  %s\t%s\n", a.ID, a.Key)
	}
	_ = tw.Flush()
}

// writeClients writes what clients connect to: the strings to give them.
func writeClients(w io.Writer, p *proxy.Status) {
	if p.Endpoints.ClientKey == "" {
		fmt.Fprintf(w, "clients: %s, live updates %s, without CURVE: anyone on the network reads list IDs (benchmarks only)\n", p.Endpoints.Client, p.Endpoints.Pub)
		return
	}
	fmt.Fprintf(w, "clients: client --proxy %s (live updates on %s)\n", p.Endpoints.ClientEndpoint(), p.Endpoints.PubEndpoint())
}

// writeBackend writes what storage servers connect to, and the backend's
// handshakes and refusals.
func writeBackend(w io.Writer, p *proxy.Status) {
	c := p.Counters
	if p.Endpoints.BackendKey == "" {
		fmt.Fprintf(w, "backend: %s without CURVE: any process may join the ring (benchmarks only)\n", p.Endpoints.Backend)
		return
	}
	fmt.Fprintf(w, "backend: %s (servers are given %s)\n", p.Endpoints.Backend, p.Endpoints.ServerEndpoint())
	fmt.Fprintf(w, "         %d handshakes admitted, %d refused (key not admitted); %d hellos or requests refused (key admitted for another ID, or revoked)\n",
		c.HandshakesAdmitted, c.HandshakesRefused, c.NotAdmitted)
}

// writeMemory writes what the proxy counts against its memory budget, and
// what the budget and the cap on new lists refused.
func writeMemory(w io.Writer, p *proxy.Status) {
	c := p.Counters
	if c.MemoryLimit == 0 {
		return
	}
	fmt.Fprintf(w, "memory:  %s held of %s it may count, %d client connections; %d requests refused, %d answers or replies dropped, %d pushes refused past the cap on new lists\n",
		bytesize.Human(c.MemoryHeld), bytesize.Human(c.MemoryLimit), c.Clients, c.MemoryRefused, c.MemoryDropped, c.NewListsRefused)
}

// writeServers writes one line per server.
func writeServers(w io.Writer, p *proxy.Status, m membership.Status) {
	admitted := map[string]bool{}
	for _, a := range m.Admitted {
		admitted[a.ID] = true
	}
	fmt.Fprintf(w, "servers: %d, as this proxy sees them (SHARE: each one's part of the ring's N replicas; the column sums to 100%%)\n", len(p.Servers))
	var replicas float64 // the ring's replicas held, in rings: N when there are N servers or more
	for _, s := range p.Servers {
		replicas += s.Share
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  SERVER\tSTATE\tADMITTED\tLINK\tLISTS\tHINTS\tMOVING\tHEALED\tDAMAGED\tVNODES\tRANGES\tSHARE\tLAST SEEN")
	var notes []string
	for _, s := range p.Servers {
		link := "down"
		if s.Up {
			link = "up"
		}
		lists, hints, moving, healed, damaged := "?", "?", "?", "?", "?"
		if s.Reported {
			lists, hints, moving = fmt.Sprint(s.Lists), fmt.Sprint(s.Hints), fmt.Sprint(s.Moving)
			healed, damaged = fmt.Sprint(s.Healed), fmt.Sprint(s.Damaged)
		}
		adm := "no"
		if admitted[s.ID] || p.Endpoints.BackendKey == "" {
			adm = "yes"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%.1f%%\t%s\n",
			s.ID, dash(s.State), adm, link, lists, hints, moving, healed, damaged, len(s.Positions), len(s.Ranges), percentOf(s.Share, replicas), ago(s.LastSeen))
		notes = append(notes, corruptionNotes(s)...)
	}
	_ = tw.Flush()
	for _, n := range notes {
		fmt.Fprintf(w, "note:    %s\n", n)
	}
}

// corruptionNotes says what a server's report tells of corruption: a store
// it started on empty, lists it refuses until an operator repairs them.
func corruptionNotes(s proxy.ServerStatus) []string {
	var out []string
	if s.Reported && s.Reset {
		out = append(out, fmt.Sprintf("%s started on an empty store: its store's files were corrupt and were set aside beside its data directory; the other owners refill it", s.ID))
	}
	if s.Reported && s.Damaged > 0 {
		out = append(out, fmt.Sprintf("%s refuses %d damaged lists: stop it and run `server repair --data DIR`", s.ID, s.Damaged))
	}
	return out
}

// writeAntiEntropy writes the anti-entropy figures, when this proxy runs it.
func writeAntiEntropy(w io.Writer, p *proxy.Status) {
	a := p.AntiEntropy
	if a.Rounds == 0 {
		return
	}
	fmt.Fprintf(w, "anti-entropy: %d rounds, %d ranges compared (%d in sync, %d skipped), %d lists repaired, %d B sent, %d B received, last round %v\n",
		a.Rounds, a.RangesCompared, a.RangesInSync, a.RangesSkipped, a.ListsRepaired, a.BytesSent, a.BytesReceived, a.LastRound)
}

// writeServerDetail writes a server's positions and owned ranges.
func writeServerDetail(w io.Writer, s proxy.ServerStatus) {
	if len(s.Positions) == 0 && len(s.Ranges) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s: %s, owns %s (%.2f%% of the ring, as one of the N owners)\n", s.ID,
		plural(len(s.Positions), "virtual node", "virtual nodes"), plural(len(s.Ranges), "range", "ranges"), 100*s.Share)
	for i := 0; i < len(s.Positions); i += positionsPerLine {
		var b strings.Builder
		for _, pos := range s.Positions[i:min(i+positionsPerLine, len(s.Positions))] {
			fmt.Fprintf(&b, " 0x%016x", pos)
		}
		label := "           "
		if i == 0 {
			label = "  positions"
		}
		fmt.Fprintf(w, "%s%s\n", label, b.String())
	}
	for i := 0; i < len(s.Ranges); i += rangesPerLine {
		var b strings.Builder
		for _, g := range s.Ranges[i:min(i+rangesPerLine, len(s.Ranges))] {
			fmt.Fprintf(&b, " (0x%016x, 0x%016x]", g.Start, g.End)
		}
		label := "           "
		if i == 0 {
			label = "  ranges   "
		}
		fmt.Fprintf(w, "%s%s\n", label, b.String())
	}
}

// plural writes n with the noun's singular or plural form: "1 range",
// "2 ranges".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// percentOf returns part as a percentage of whole, 0 for an empty whole.
func percentOf(part, whole float64) float64 {
	if whole == 0 {
		return 0
	}
	return 100 * part / whole
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// ago formats how long ago t was, to the tenth of a second.
func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return time.Since(t).Round(100*time.Millisecond).String() + " ago"
}
