package admin

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestStatusWithNothingRunningSaysSo checks that status with no proxy
// listening says so in one line naming the addresses, not as the errors
// of each connection.
func TestStatusWithNothingRunningSaysSo(t *testing.T) {
	g := newGroup(t)
	a, b := closedAddr(t), closedAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code := StatusMain(ctx, []string{"--admin", a + "," + b, "--credentials", g.dir}, &out, &errOut)
	msg := errOut.String()
	if code != 1 || strings.Count(strings.TrimSpace(msg), "\n") != 0 ||
		!strings.Contains(msg, "no proxy answers at "+a+", "+b+"; is the service running?") {
		t.Fatalf("exit %d, stderr %q", code, msg)
	}
}
