package hashring

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The golden values below were computed once with real MD5 (Position) on the
// membership server-1..server-5 with DefaultVNodes, and are hard-coded on
// purpose: every proxy and storage process, whatever its version, build or
// start-up order, must route a list to the same servers. If this test fails,
// placement has changed incompatibly (hash, vnode label format, tie-break or
// walk), which would strand existing replicas. Do not just update the values.
var goldenOwners = []struct {
	key  string
	want []string
}{
	{"6cd6ee76-a303-4182-ae08-08d724f9fe42", []string{"server-1", "server-2", "server-4"}},
	{"164b840c-de1d-4c5d-9722-9e1a89b950b1", []string{"server-3", "server-4", "server-5"}},
	{"7681f85c-ee1a-4990-bec0-0f2d41094dcb", []string{"server-4", "server-2", "server-5"}},
	{"03d18ab8-9491-489f-9f8e-5f1a56211272", []string{"server-4", "server-5", "server-1"}},
	{"8fbf9774-c38a-40e3-9785-169d9bf447fb", []string{"server-5", "server-3", "server-4"}},
	{"6070c256-6952-4c71-a7a6-0c383c41fe2e", []string{"server-4", "server-5", "server-3"}},
	{"e3d5d38d-109e-4f7a-9933-99243c8d7273", []string{"server-2", "server-4", "server-5"}},
	{"00000000-0000-0000-0000-000000000000", []string{"server-5", "server-3", "server-4"}},
	{"f47ac10b-58cc-4372-a567-0e02b2c3d479", []string{"server-4", "server-5", "server-3"}},
}

func TestOwnersGolden(t *testing.T) {
	r := New(members(5))
	for _, g := range goldenOwners {
		if got := r.Owners(g.key, 3); !slices.Equal(got, g.want) {
			t.Errorf("Owners(%s, 3) = %q, want %q", g.key, got, g.want)
		}
	}
}

// goldenTable pins the whole ring for the same membership: every arc and the
// server owning it, hence every preference list, not just the sampled keys.
const goldenTable = `hashring: 5 servers, 3 vnodes/server, 15 points
SERVER    START (excl)        END (incl)          SHARE
server-4  0xf8c2f53ee99a2296  0x02e6105b97280652    3.960%
server-5  0x02e6105b97280652  0x08bac6e0b628614f    2.278%
server-1  0x08bac6e0b628614f  0x2f831ec21a1c7cd0   15.149%
server-2  0x2f831ec21a1c7cd0  0x39a52b90ee0458c7    3.958%
server-4  0x39a52b90ee0458c7  0x661f2f960803fd14   17.374%
server-2  0x661f2f960803fd14  0x6ce3f79ace54c606    2.644%
server-4  0x6ce3f79ace54c606  0x8ad78e83eed5545a   11.700%
server-5  0x8ad78e83eed5545a  0xbc796b3d24c1bda8   19.388%
server-3  0xbc796b3d24c1bda8  0xf8c2f53ee99a2296   23.550%

SERVER    TOTAL SHARE
server-1   15.149%
server-2    6.602%
server-3   23.550%
server-4   33.033%
server-5   21.665%
`

func TestRingTableGolden(t *testing.T) {
	if got := New(members(5)).String(); got != goldenTable {
		t.Errorf("String() =\n%s\nwant\n%s", got, goldenTable)
	}
}

const childEnv = "HASHRING_OWNERS_CHILD"

// TestOwnersAcrossProcesses re-executes the test binary; the child reads keys
// on stdin and prints their owners, which must match this process's. A fresh
// process has fresh map-iteration and hash seeds, so this catches placement
// that depends on per-process state.
func TestOwnersAcrossProcesses(t *testing.T) {
	if os.Getenv(childEnv) == "1" {
		ownersChild(t)
		return
	}
	r := New(members(5))
	keys := uuidKeys(4, 5000)
	cmd := exec.Command(os.Args[0], "-test.run=^TestOwnersAcrossProcesses$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stdin = strings.NewReader(strings.Join(keys, "\n") + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	got := map[string]string{}
	for line := range strings.Lines(string(out)) {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "owners" {
			got[f[1]] = f[2]
		}
	}
	if len(got) != len(keys) {
		t.Fatalf("child reported %d keys, want %d; output:\n%.2000s", len(got), len(keys), out)
	}
	for _, k := range keys {
		if want := strings.Join(r.Owners(k, 3), ","); got[k] != want {
			t.Errorf("key %s: child owners %s, parent owners %s", k, got[k], want)
		}
	}
}

func ownersChild(t *testing.T) {
	r := New(members(5))
	sc := bufio.NewScanner(os.Stdin)
	w := bufio.NewWriter(os.Stdout)
	for sc.Scan() {
		k := sc.Text()
		fmt.Fprintf(w, "owners %s %s\n", k, strings.Join(r.Owners(k, 3), ","))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}
