package proxynode

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"shoplist/cluster/admin"
	"shoplist/cluster/groupca"
	"shoplist/cluster/membership"
	"shoplist/internal/curvekey"
)

// groupTimeout bounds the waits of the group test: an election among
// proxies with groupTimeouts takes a second or two.
const groupTimeout = 30 * time.Second

// operator returns an admin client with the operator credentials the
// proxy with data directory data founded.
func operator(t *testing.T, data string) *admin.Client {
	t.Helper()
	creds, err := groupca.Load(groupca.DirIn(data), groupca.RoleOperator)
	must(t, err)
	return admin.NewClient(creds)
}

// issue gives the proxy with data directory data node credentials of the
// group founded in founder's, as `proxy issue` does.
func issue(t *testing.T, founder, data string) {
	t.Helper()
	must(t, groupca.Issue(groupca.DirIn(founder), groupca.DirIn(data), groupca.RoleNode))
}

// waitStatus polls the admin API at addr through c until cond holds for
// its status.
func waitStatus(t *testing.T, c *admin.Client, addr, what string, cond func(admin.Status) bool) admin.Status {
	t.Helper()
	deadline := time.Now().Add(groupTimeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var last admin.Status
	var lastErr error
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		st, err := c.Status(ctx, addr)
		cancel()
		if err == nil && cond(st) {
			return st
		}
		last, lastErr = st, err
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting at %s for %s; last status %+v, %v", addr, what, last, lastErr)
		}
		<-tick.C
	}
}

// member reports whether id is a member of st's committed ring in state.
func member(st admin.Status, id string, state membership.State) bool {
	return slices.Contains(st.Membership.Members, membership.Member{ID: id, State: state})
}

// unusedAddr returns a loopback address nothing listens on.
func unusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := ln.Addr().String()
	must(t, ln.Close())
	return addr
}

func TestThreeProxiesFormOneGroupAndOutliveTheLeader(t *testing.T) {
	d0, d1, d2 := t.TempDir(), t.TempDir(), t.TempDir()
	p0 := runMain(t, d0)
	op := operator(t, d0)
	// p1's credentials go into its data directory; p2's, issued by the
	// command, into a directory of their own.
	issue(t, d0, d1)
	bundle := filepath.Join(t.TempDir(), "p2-credentials")
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), []string{"issue", "--data", d0, "--out", bundle}, &out, &errOut); code != 0 {
		t.Fatalf("proxy issue: exit %d: %s", code, errOut.String())
	}
	// p1 joins through p0; p2 through an address that is down, then p1,
	// a follower, which passes the request on to the leader.
	p1 := runMain(t, d1, "--join", p0.fields["admin"])
	p2 := runMain(t, d2, "--join", unusedAddr(t)+","+p1.fields["admin"], "--credentials", bundle)
	all := []running{p0, p1, p2}
	var clients []string
	for _, p := range []running{p0, p1, p2} {
		clients = append(clients, curvekey.JoinEndpoint(p.fields["client"], p.fields["client#key"]))
	}
	slices.Sort(clients)
	for _, p := range all {
		st := waitStatus(t, op, p.fields["admin"], "three voters and every proxy recorded", func(st admin.Status) bool {
			return len(st.Membership.Voters) == 3 && len(st.Membership.Proxies) == 3
		})
		if st.Membership.LeaderAddr != p0.fields["raft"] {
			t.Fatalf("leader %s at %s, want p0 at %s", st.Membership.LeaderID, st.Membership.LeaderAddr, p0.fields["raft"])
		}
	}

	// A server says hello to a follower: the join goes to the leader and
	// every proxy has it once committed, with every proxy's client
	// endpoint to give servers and clients.
	epoch := welcomed(t, p1, admitted(t, p1, d0, "s1"))
	for _, p := range all {
		st := waitStatus(t, op, p.fields["admin"], "s1 in the ring", func(st admin.Status) bool {
			return member(st, "s1", membership.Active) && st.Membership.Epoch == epoch && st.Proxy != nil && st.Proxy.Epoch == epoch
		})
		if got := slices.Sorted(slices.Values(st.Proxy.Proxies)); !slices.Equal(got, clients) {
			t.Fatalf("the proxy at %s lists client endpoints %v, want %v", p.fields["admin"], got, clients)
		}
	}

	// `proxy status --json` prints what the admin API answers.
	out.Reset()
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	if code := Main(ctx, []string{"status", "--admin", p2.fields["admin"], "--json", "--data", d0}, &out, &errOut); code != 0 {
		t.Fatalf("proxy status --json: exit %d: %s", code, errOut.String())
	}
	var st admin.Status
	if err := json.Unmarshal(out.Bytes(), &st); err != nil {
		t.Fatalf("proxy status --json does not decode: %v\n%s", err, out.String())
	}
	// Keys are lower-case, and an empty list is [], never null.
	if k := regexp.MustCompile(`"[a-z_]*[A-Z][A-Za-z_]*":`).Find(out.Bytes()); k != nil {
		t.Errorf("proxy status --json has the key %s: want lower-case keys", k)
	}
	if bytes.Contains(out.Bytes(), []byte("null")) {
		t.Errorf("proxy status --json holds a null:\n%s", out.String())
	}
	if st.Admin != p2.fields["admin"] || st.Membership.RaftState != "Follower" || len(st.Membership.Voters) != 3 ||
		!member(st, "s1", membership.Active) || st.Proxy == nil || st.Proxy.Epoch != epoch || st.Proxy.Leader {
		t.Fatalf("decoded status of p2: %+v", st)
	}

	// `proxy status --endpoints` prints what clients are given, keys
	// included, as `client --proxy` takes it.
	out.Reset()
	if code := Main(ctx, []string{"status", "--admin", p2.fields["admin"], "--endpoints", "--data", d0}, &out, &errOut); code != 0 {
		t.Fatalf("proxy status --endpoints: exit %d: %s", code, errOut.String())
	}
	if got := slices.Sorted(slices.Values(strings.Split(strings.TrimSpace(out.String()), ","))); !slices.Equal(got, clients) {
		t.Fatalf("proxy status --endpoints printed %q, want %v", out.String(), clients)
	}

	// The leader stops; the other two elect one of themselves.
	if code := p0.stop(); code != 0 {
		t.Fatalf("p0 exited %d", code)
	}
	var leader string
	waitStatus(t, op, p1.fields["admin"], "a new leader", func(st admin.Status) bool {
		leader = st.Membership.LeaderAddr
		return leader != "" && leader != p0.fields["raft"]
	})
	waitStatus(t, op, p2.fields["admin"], "the same leader", func(st admin.Status) bool { return st.Membership.LeaderAddr == leader })
	// The stopped proxy is still a voter, and shown down; the others up.
	st = waitStatus(t, op, p1.fields["admin"], "p0 shown down", func(st admin.Status) bool {
		up := map[string]bool{}
		for _, h := range st.Proxies {
			up[h.Admin] = h.Up
		}
		return len(st.Proxies) == 3 && !up[p0.fields["admin"]] && up[p1.fields["admin"]] && up[p2.fields["admin"]]
	})
	for _, h := range st.Proxies {
		if h.Admin == p0.fields["admin"] && (h.LastContact.IsZero() || h.Error == "") {
			t.Errorf("p0's health %+v: want its last contact and why it is down", h)
		}
	}

	// A server started afterwards joins through either, and both see it.
	later := welcomed(t, p2, admitted(t, p2, d0, "s2"))
	for _, p := range []running{p1, p2} {
		waitStatus(t, op, p.fields["admin"], "s2 in the ring", func(st admin.Status) bool {
			return member(st, "s1", membership.Active) && member(st, "s2", membership.Active) && st.Membership.Epoch == later
		})
	}

	// `proxy remove` through either marks the server leaving everywhere.
	out.Reset()
	if code := Main(ctx, []string{"remove", "s1", "--admin", p1.fields["admin"], "--credentials", groupca.DirIn(d0)}, &out, &errOut); code != 0 {
		t.Fatalf("proxy remove s1: exit %d: %s", code, errOut.String())
	}
	waitStatus(t, op, p2.fields["admin"], "s1 leaving", func(st admin.Status) bool { return member(st, "s1", membership.Leaving) })

	for _, p := range []running{p1, p2} {
		if code := p.stop(); code != 0 {
			t.Fatalf("exit %d", code)
		}
	}
}
