package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func quickConfig(proxy string) Config {
	return Config{Proxy: proxy, Clients: 4, Duration: 300 * time.Millisecond, Timeout: 2 * time.Second,
		Items: 5, Lists: 5, Shared: 0.2, Group: 2, Mix: 0.5, Stored: 20, Subscribers: 1}
}

func TestRunAgainstAFaithfulProxyVerifies(t *testing.T) {
	f := startFakeProxy(t, 0)
	res, err := Run(context.Background(), quickConfig(f.client))
	if err != nil {
		t.Fatal(err)
	}
	v := res.Verdict
	if !res.OK() || v.Lists != 5+1+15 || v.Acknowledged == 0 {
		t.Fatalf("verdict %v (%+v): want OK over 5 load lists, 1 probe list and 15 stored", v, v)
	}
	if res.Push.Count() == 0 || res.Pull.Count() == 0 || res.Live.Count() == 0 {
		t.Fatalf("counts push %d pull %d live %d: want all nonzero", res.Push.Count(), res.Pull.Count(), res.Live.Count())
	}
	if res.LiveMissed != 0 || len(res.Errors) != 0 {
		t.Errorf("missed %d live updates, errors %v: want none from a faithful proxy", res.LiveMissed, res.Errors)
	}
	// Pulls name the state the client holds; those of lists nobody else
	// changed meanwhile are answered Unchanged, and the run counts them.
	if f.knownPulls.Load() == 0 || res.Unchanged == 0 || int64(res.Unchanged) != f.unchanged.Load() {
		t.Errorf("%d pulls named a state, %d answered Unchanged, the run counted %d: want some, all counted",
			f.knownPulls.Load(), f.unchanged.Load(), res.Unchanged)
	}
}

// With FullPulls (bench --full-pulls) no Pull names a state: every one is
// answered with the whole list, and the run still verifies.
func TestRunWithFullPullsSendsNoKnownState(t *testing.T) {
	f := startFakeProxy(t, 0)
	cfg := quickConfig(f.client)
	cfg.FullPulls = true
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.Pull.Count() == 0 || len(res.Errors) != 0 {
		t.Fatalf("verdict %v, %d pulls, errors %v: want a verified run with pulls and no errors", res.Verdict, res.Pull.Count(), res.Errors)
	}
	if n := f.knownPulls.Load(); n != 0 || res.Unchanged != 0 {
		t.Fatalf("%d pulls named a state, %d answered Unchanged: want none with FullPulls", n, res.Unchanged)
	}
	if cfg, _, err := parseFlags([]string{"--proxy", f.client, "--full-pulls"}, &bytes.Buffer{}); err != nil || !cfg.FullPulls {
		t.Fatalf("--full-pulls parses to FullPulls = %v, %v", cfg.FullPulls, err)
	}
}

func TestRunAgainstALossyProxyReportsLoss(t *testing.T) {
	f := startFakeProxy(t, 7)
	res, err := Run(context.Background(), quickConfig(f.client))
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() || res.Verdict.Lost == 0 {
		t.Fatalf("verdict %v: a proxy that drops every 7th acknowledged push must show lost writes", res.Verdict)
	}
	var named int64
	for _, f := range res.Verdict.Failures {
		if f.Replica == uuid.Nil || f.Item == "" || f.Lost == 0 {
			t.Errorf("failure %v: want a lost part of a named item and replica", f)
		}
		named += f.Lost
	}
	if named != res.Verdict.Lost {
		t.Errorf("failures name %d lost edits, the verdict counts %d", named, res.Verdict.Lost)
	}
	var out, errOut bytes.Buffer
	if code := mainWith(t, []string{"--proxy", f.client, "--clients", "2", "--duration", "200ms", "--warmup", "0", "--json"}, &out, &errOut); code != 1 {
		t.Fatalf("bench exit code %d with lost writes, want 1; stderr:\n%s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "DATA LOST") {
		t.Errorf("stderr does not say data was lost:\n%s", errOut.String())
	}
	if !strings.Contains(errOut.String(), ", replica ") || !strings.Contains(errOut.String(), " lost\n") {
		t.Errorf("stderr does not name the lost parts by list, item and replica:\n%s", errOut.String())
	}
}

func mainWith(t *testing.T, args []string, stdout, stderr *bytes.Buffer) int {
	t.Helper()
	noLaunch := func(context.Context, ClusterSpec) (string, func() error, error) {
		t.Fatal("bench tried to launch a cluster")
		return "", nil, nil
	}
	return Main(context.Background(), append([]string{"--gomaxprocs", "0"}, args...), stdout, stderr, noLaunch)
}

func TestWithoutProxyBenchLaunchesAndStopsACluster(t *testing.T) {
	f := startFakeProxy(t, 0)
	var dir string
	stopped := false
	launch := func(_ context.Context, spec ClusterSpec) (string, func() error, error) {
		if spec.Servers != 3 || !spec.InsecureBackend {
			t.Errorf("launched %+v, want --servers 3 and --insecure-backend", spec)
		}
		dir = spec.Dir
		return f.client, func() error { stopped = true; return nil }, nil
	}
	var out, errOut bytes.Buffer
	args := []string{"--gomaxprocs", "0", "--servers", "3", "--insecure-backend", "--clients", "2", "--duration", "100ms", "--warmup", "0"}
	if code := Main(context.Background(), args, &out, &errOut, launch); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut.String())
	}
	if !stopped {
		t.Error("the cluster was not stopped")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temporary data directory %q left behind (%v)", dir, err)
	}
	if !strings.Contains(out.String(), "push") || !strings.Contains(out.String(), ": OK") {
		t.Errorf("table output:\n%s", out.String())
	}
}

func TestJSONHasExactlyTheRequiredKeys(t *testing.T) {
	f := startFakeProxy(t, 0)
	for _, raw := range []bool{false, true} {
		args := []string{"--proxy", f.client, "--clients", "2", "--duration", "200ms", "--warmup", "50ms", "--json"}
		if raw {
			args = append(args, "--raw")
		}
		var out, errOut bytes.Buffer
		if code := mainWith(t, args, &out, &errOut); code != 0 {
			t.Fatalf("exit %d; stderr:\n%s", code, errOut.String())
		}
		if n := strings.Count(out.String(), "\n"); n != 1 {
			t.Fatalf("stdout has %d lines, want exactly one JSON object:\n%s", n, out.String())
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(out.Bytes(), &obj); err != nil {
			t.Fatal(err)
		}
		want := []string{"acknowledged", "clients", "duration_s", "live", "lost", "pull", "push"}
		if raw {
			want = append(want, "ratio", "raw")
		}
		if got := slices.Sorted(maps.Keys(obj)); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
			t.Fatalf("keys %v, want %v", got, want)
		}
		stats := []string{"live", "pull", "push"}
		if raw {
			stats = append(stats, "raw")
		}
		for _, k := range stats {
			var s map[string]float64
			if err := json.Unmarshal(obj[k], &s); err != nil {
				t.Fatal(err)
			}
			if got := slices.Sorted(maps.Keys(s)); !slices.Equal(got, []string{"ops_per_sec", "p50_ms", "p95_ms", "p99_ms"}) {
				t.Errorf("%s has keys %v", k, got)
			}
		}
	}
}

func TestUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"-h"}, 0},
		{[]string{"--mix", "1.5", "--proxy", "tcp://127.0.0.1:1"}, 2},
		{[]string{"--clients", "0", "--proxy", "tcp://127.0.0.1:1"}, 2},
		{[]string{"--proxy", "tcp://127.0.0.1:1", "extra"}, 2},
	} {
		var out, errOut bytes.Buffer
		if code := mainWith(t, c.args, &out, &errOut); code != c.code || out.Len() != 0 {
			t.Errorf("bench %v: exit %d, stdout %q; want exit %d and nothing on stdout", c.args, code, out.String(), c.code)
		}
	}
}
