package cli_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"shoplist/testing/testcluster"
)

// tmux drives terminal UIs in a private tmux server (its own socket), so
// the test touches no one else's sessions.
type tmux struct {
	t      *testing.T
	socket string
}

func newTmux(t *testing.T) *tmux {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is not installed: run `make deps` (make test does)")
	}
	x := &tmux{t: t, socket: fmt.Sprintf("shoplist-test-%d-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "-"))}
	t.Cleanup(func() { exec.Command("tmux", "-L", x.socket, "kill-server").Run() })
	return x
}

// cmd runs one tmux command and returns its output.
func (x *tmux) cmd(args ...string) string {
	x.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", x.socket}, args...)...).CombinedOutput()
	if err != nil {
		x.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// start opens a detached 80×24 session running argv.
func (x *tmux) start(session string, argv ...string) {
	x.t.Helper()
	x.cmd(append([]string{"new-session", "-d", "-s", session, "-x", "80", "-y", "24"}, argv...)...)
}

// screen returns what the session's pane shows.
func (x *tmux) screen(session string) string {
	out, err := exec.Command("tmux", "-L", x.socket, "capture-pane", "-p", "-t", session).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("(capture failed: %v: %s)", err, out)
	}
	return string(out)
}

// waitFor waits until the session's screen contains every phrase.
func (x *tmux) waitFor(session string, phrases ...string) {
	x.t.Helper()
	testcluster.Eventually(x.t, fmt.Sprintf("%s's screen shows %q", session, phrases), func() bool {
		s := x.screen(session)
		for _, p := range phrases {
			if !strings.Contains(s, p) {
				return false
			}
		}
		return true
	}, func() string { return "screen:\n" + x.screen(session) })
}

// keys sends key names (tmux send-keys syntax: "Enter", "Escape", "a").
func (x *tmux) keys(session string, keys ...string) {
	x.t.Helper()
	x.cmd(append([]string{"send-keys", "-t", session}, keys...)...)
}

// waitGone waits until the session's screen no longer shows phrase.
func (x *tmux) waitGone(session, phrase string) {
	x.t.Helper()
	testcluster.Eventually(x.t, fmt.Sprintf("%s's screen without %q", session, phrase), func() bool {
		return !strings.Contains(x.screen(session), phrase)
	}, func() string { return "screen:\n" + x.screen(session) })
}

// add opens the add dialog, waits for it (keys typed together can reach
// the UI as one message), adds each item and closes the dialog, waiting
// until it is gone (an escape followed at once by a key reads as alt+key).
func (x *tmux) add(session string, items ...string) {
	x.t.Helper()
	x.keys(session, "a")
	x.waitFor(session, "Add to")
	for _, it := range items {
		x.text(session, it)
		x.keys(session, "Enter")
	}
	x.keys(session, "Escape")
	x.waitGone(session, "Add to")
}

// text types text literally.
func (x *tmux) text(session, text string) {
	x.t.Helper()
	x.cmd("send-keys", "-t", session, "-l", text)
}

// TestTwoTerminalUIsSeeEachOthersEdits runs two real client processes in
// tmux, each with its own data directory, on one shared list: an item added
// in one window appears in the other without a key press, both ways.
func TestTwoTerminalUIsSeeEachOthersEdits(t *testing.T) {
	c := testcluster.Start(t, 5)
	alice, bob := newUser(t, c.Endpoint()), newUser(t, c.Endpoint())
	id := alice.newList("Picnic")
	bob.ok("join", id)

	x := newTmux(t)
	x.start("alice", clientBin, "--data", alice.data, "--proxy", c.Endpoint())
	x.start("bob", clientBin, "--data", bob.data, "--proxy", c.Endpoint())
	for _, s := range []string{"alice", "bob"} {
		x.waitFor(s, "Picnic", "online")
		x.keys(s, "Enter") // open the only list
	}
	x.waitFor("alice", "No items yet")
	x.waitFor("bob", "No items yet")

	x.add("alice", "apples 3")
	x.waitFor("alice", "apples")
	x.waitFor("bob", "apples") // live, no key pressed in bob's window

	x.add("bob", "pears")
	x.waitFor("alice", "pears")

	// The cluster goes away; both keep editing; it comes back; both
	// converge without a key pressed.
	c.StopProxy()
	x.waitFor("alice", "connecting")
	x.waitFor("bob", "connecting")
	x.add("alice", "bread")
	x.add("bob", "milk 2")
	x.waitFor("alice", "bread", "1 list pending")
	x.waitFor("bob", "milk", "1 list pending")
	c.StartProxy()
	x.waitFor("alice", "milk", "online")
	x.waitFor("bob", "bread", "online")

	// Both quit cleanly on q, and both replicas hold every item.
	for _, s := range []string{"alice", "bob"} {
		x.keys(s, "q")
	}
	testcluster.Eventually(t, "both UIs exit on q", func() bool {
		return exec.Command("tmux", "-L", x.socket, "has-session").Run() != nil
	}, func() string { return x.screen("alice") + "\n" + x.screen("bob") })
	for _, u := range []*user{alice, bob} {
		if got := u.show(id, true).summary(); got != "apples 3/0, bread 1/0, milk 2/0, pears 1/0" {
			t.Fatalf("replica in %s holds %q", u.data, got)
		}
	}
}
