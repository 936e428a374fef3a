package proxynode

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shoplist/cluster/admin"
	"shoplist/cluster/groupca"
)

func TestAFoundingProxyKeepsTheGroupsCredentialsForItsOwnerOnly(t *testing.T) {
	data := t.TempDir()
	p := runMain(t, data)
	dir := groupca.DirIn(data)
	st, err := os.Stat(dir)
	must(t, err)
	if st.Mode().Perm() != 0o700 {
		t.Errorf("%s: mode %v, want 0700", dir, st.Mode().Perm())
	}
	for _, name := range []string{groupca.CAFile, groupca.CAKeyFile, groupca.NodeFile, groupca.NodeKeyFile, groupca.OperatorFile, groupca.OperatorKeyFile} {
		st, err := os.Stat(filepath.Join(dir, name))
		must(t, err)
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", name, st.Mode().Perm())
		}
	}
	ca, err := os.ReadFile(filepath.Join(dir, groupca.CAFile))
	must(t, err)
	if code := p.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	// Restarted, it keeps its group: the same CA, and the operator's
	// credentials still open its admin API.
	p = runMain(t, data)
	again, err := os.ReadFile(filepath.Join(dir, groupca.CAFile))
	must(t, err)
	if !bytes.Equal(ca, again) {
		t.Fatal("a restart replaced the group's CA")
	}
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), []string{"status", "--admin", p.fields["admin"], "--data", data}, &out, &errOut); code != 0 {
		t.Fatalf("proxy status after a restart: exit %d: %s", code, errOut.String())
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// TestAProxyWithoutTheGroupsCredentialsCannotJoin starts proxies that
// ask to join a running group with credentials of another group, and with
// none: each stops with an error saying so, and the group still has one
// voter and one proxy.
func TestAProxyWithoutTheGroupsCredentialsCannotJoin(t *testing.T) {
	d0 := t.TempDir()
	p0 := runMain(t, d0)
	foreign := t.TempDir()
	_, err := groupca.Create(groupca.DirIn(foreign))
	must(t, err)
	for name, c := range map[string]struct {
		data string
		want string
	}{
		"another group's credentials": {foreign, "do not hold credentials of one group"},
		"no credentials":              {t.TempDir(), "joining a group needs credentials it issued"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
		var out, errOut syncBuffer
		code := Main(ctx, []string{"--listen", "127.0.0.1:0", "--data", c.data, "--log-level", "error", "--join", p0.fields["admin"]}, &out, &errOut)
		late := ctx.Err()
		cancel()
		if code != 1 || !strings.Contains(errOut.String(), c.want) || late != nil {
			t.Errorf("%s: exit %d, stderr %q; want 1 with %q, at once", name, code, errOut.String(), c.want)
		}
	}
	st := waitStatus(t, operator(t, d0), p0.fields["admin"], "the status", func(st admin.Status) bool { return true })
	if len(st.Membership.Voters) != 1 || len(st.Membership.Proxies) != 1 {
		t.Fatalf("voters %+v, proxies %+v after refused joins; want p0 alone", st.Membership.Voters, st.Membership.Proxies)
	}
	// Without credentials, no operator command gets in either.
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), []string{"remove", "s1", "--force", "--admin", p0.fields["admin"], "--data", foreign}, &out, &errOut); code != 1 {
		t.Fatalf("proxy remove with another group's operator credentials: exit %d: %s", code, errOut.String())
	}
	if code := Main(context.Background(), []string{"status", "--admin", p0.fields["admin"], "--data", t.TempDir()}, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "operator credentials") {
		t.Fatalf("proxy status without credentials: exit %d: %s", code, errOut.String())
	}
}
