package launcher

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestServiceStatusNeedsTheOperatorsCredentials(t *testing.T) {
	data := t.TempDir()
	var out, errOut bytes.Buffer
	code := StatusMain(context.Background(), []string{"--data", data}, &out, &errOut)
	want := filepath.Join(data, "proxy", "credentials") + " has no ca.pem"
	if code != 1 || !strings.Contains(errOut.String(), "operator credentials") || !strings.Contains(errOut.String(), want) {
		t.Fatalf("service status without credentials: exit %d, stderr %q; want 1 naming %q", code, errOut.String(), want)
	}
}
