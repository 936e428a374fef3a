package layering

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// module is the project's module path.
const module = "shoplist"

// rule says which project packages a package may import (its non-test
// imports; tests may import whatever they exercise).
type rule struct {
	// pkgs are the packages the rule is about: a path, or a path followed
	// by "/..." for every package below it.
	pkgs string
	// may lists what they may import, in the same form. A package may
	// always import packages below itself.
	may []string
	// why is the rule in words, for the failure message.
	why string
}

// rules are the layering of the tree, from the bottom up. Every project
// package must be covered by exactly one rule.
var rules = []rule{
	{"crdt", nil, "the list is the foundation: it imports no project package"},
	{"hashring", nil, "the ring imports no project package"},
	{"protocol", []string{"crdt"}, "the wire format knows the list, nothing else"},
	{"storage", []string{"crdt", "hashring"}, "the store keeps lists by ring position; it does not speak the wire protocol"},
	{"internal/curvekey", []string{"internal/atomicfile"},
		"CURVE keys rest on the standard library (and durable files), so membership and the operator tools check keys without cgo"},
	{"internal/...", []string{"crdt", "protocol", "internal/curvekey"}, "small helpers sit on the list, the wire format and the keys, below both sides"},

	{"client/...", []string{"crdt", "protocol", "internal/...", "client/...", "tui"}, "the device side never imports the cluster side"},
	{"tui", []string{"crdt", "client/replica", "client/syncer"}, "the terminal UI sits on the device's replica and sync engine"},

	{"cluster/placement", []string{"hashring", "protocol"}, "the decided ring is shared by proxy and membership"},
	{"cluster/antientropy", []string{"hashring", "protocol", "cluster/placement"},
		"the anti-entropy coordinator is a state machine: the proxy owns the sockets it speaks through"},
	{"cluster/removal", []string{"protocol", "cluster/placement"},
		"removal decides; the proxy acts on its decisions"},
	{"cluster/proxy", []string{"crdt", "hashring", "protocol", "internal/...", "cluster/placement", "cluster/antientropy", "cluster/removal"},
		"the proxy routes: it does not decide the membership it routes with"},
	{"cluster/membership", []string{"hashring", "protocol", "internal/...", "cluster/placement"},
		"membership decides the ring: it does not import the proxy that routes with it"},
	{"cluster/groupca", nil, "the group's certificate authority rests on the standard library alone"},
	{"cluster/...", []string{"crdt", "hashring", "protocol", "storage", "internal/...", "cluster/..."}, "the cluster side never imports the device side or test infrastructure"},

	{"testing/...", []string{"..."}, "test infrastructure may import anything but the mains"},
	{"cmd/bench", []string{"cluster/launcher", "testing/loadgen", "internal/runtimecfg"}, "bench wires the launcher and the load generator, in a runtime set up as the roles' is"},
	{"cmd/...", []string{"client/...", "cluster/..."}, "the mains wire one side each"},
}

// matches reports whether the project-relative path rel is named by pattern.
func matches(pattern, rel string) bool {
	if pattern == "..." {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return rel == base || strings.HasPrefix(rel, base+"/")
	}
	return rel == pattern
}

// ruleFor returns the first rule whose pkgs names rel.
func ruleFor(rel string) (rule, bool) {
	for _, r := range rules {
		if matches(r.pkgs, rel) {
			return r, true
		}
	}
	return rule{}, false
}

// violations returns, for the packages and their project imports in deps
// (project-relative paths), every import no rule allows.
func violations(deps map[string][]string) []string {
	var out []string
	for _, pkg := range slices.Sorted(maps.Keys(deps)) {
		r, ok := ruleFor(pkg)
		if !ok {
			out = append(out, fmt.Sprintf("%s: no rule covers this package", pkg))
			continue
		}
		for _, imp := range deps[pkg] {
			if strings.HasPrefix(imp, pkg+"/") || slices.ContainsFunc(r.may, func(m string) bool { return matches(m, imp) }) {
				continue
			}
			if strings.HasPrefix(imp, "testing/") && !strings.HasPrefix(pkg, "testing/") && pkg != "cmd/bench" {
				out = append(out, fmt.Sprintf("%s imports %s: only tests and bench use test infrastructure", pkg, imp))
				continue
			}
			out = append(out, fmt.Sprintf("%s imports %s: %s", pkg, imp, r.why))
		}
	}
	return out
}

// projectImports lists every package of the module with its non-test
// project imports, by project-relative path.
func projectImports(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", module+"/...")
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	deps := map[string][]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("go list output: %v", err)
		}
		rel := strings.TrimPrefix(p.ImportPath, module+"/")
		deps[rel] = []string{}
		for _, imp := range p.Imports {
			if r, ok := strings.CutPrefix(imp, module+"/"); ok {
				deps[rel] = append(deps[rel], r)
			}
		}
	}
	return deps
}

func TestEveryImportFollowsTheLayering(t *testing.T) {
	deps := projectImports(t)
	if len(deps) < 20 {
		t.Fatalf("go list found only %d packages: %v", len(deps), slices.Sorted(maps.Keys(deps)))
	}
	for _, v := range violations(deps) {
		t.Error(v)
	}
}

// TestTheRulesCatchABrokenLayering feeds the checker imports that break
// each kind of rule and checks that it names every one.
func TestTheRulesCatchABrokenLayering(t *testing.T) {
	bad := map[string][]string{
		"storage":             {"protocol"},
		"cluster/proxy":       {"cluster/membership"},
		"cluster/membership":  {"cluster/proxy"},
		"cluster/antientropy": {"cluster/proxy"},
		"client/syncer":       {"cluster/proxy"},
		"cluster/server":      {"client/replica"},
		"cluster/groupca":     {"internal/atomicfile"},
		"tui":                 {"cluster/proxy"},
		"internal/doorbell":   {"storage"},
		"internal/curvekey":   {"protocol"},
		"cmd/proxy":           {"testing/testcluster"},
		"newfolder/x":         {},
	}
	got := violations(bad)
	if len(got) != len(bad) {
		t.Fatalf("%d violations, want %d:\n%s", len(got), len(bad), strings.Join(got, "\n"))
	}
	good := map[string][]string{
		"cluster/proxy":      {"cluster/placement", "protocol", "internal/doorbell"},
		"cluster/membership": {"cluster/placement"},
		"client/cli":         {"tui", "client/replica"},
		"testing/chaos":      {"cluster/launcher", "client/syncer"},
		"cmd/bench":          {"testing/loadgen"},
		"cluster/server":     {"storage", "cluster/server/sub"},
	}
	if v := violations(good); len(v) != 0 {
		t.Fatalf("allowed imports refused:\n%s", strings.Join(v, "\n"))
	}
}
