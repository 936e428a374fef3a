package proxynode

import (
	"os"
	"testing"

	"shoplist/internal/curvekey"
)

func TestTheProxyKeepsItsBackendKeyInItsDataDirectory(t *testing.T) {
	data := t.TempDir()
	p := runMain(t, data)
	dir := curvekey.DirIn(data)
	pub, err := curvekey.ReadPublic(curvekey.PublicPath(dir, KeyName))
	must(t, err)
	if p.fields["backend#key"] != pub {
		t.Fatalf("the ready line says backend=…#%s, %s holds %s", p.fields["backend#key"], curvekey.PublicPath(dir, KeyName), pub)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, dir + "/" + KeyName + ".key": 0o600} {
		st, err := os.Stat(path)
		must(t, err)
		if st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, st.Mode().Perm(), want)
		}
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	p = runMain(t, data)
	if p.fields["backend#key"] != pub {
		t.Fatalf("after a restart the backend key is %s, was %s", p.fields["backend#key"], pub)
	}
	// A server it admitted is welcomed with the key it was given.
	welcomed(t, p, admitted(t, p, data, "s1"))
	if code := p.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}
