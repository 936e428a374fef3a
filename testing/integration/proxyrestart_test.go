package integration

import (
	"context"
	"fmt"
	"shoplist/testing/faults"
	"testing"
)

// Proxy restart: the proxy is killed and restarted on the same ports; servers
// and clients reconnect on their own and no acknowledged write is lost. The
// proxy and servers are separate processes.
func TestProxyRestartLosesNoAcknowledgedPushAndEveryoneReconnects(t *testing.T) {
	t.Parallel()
	c := launchReal(t, 5)
	cl := dial(t, c.ClientEndpoint())
	list := pushNew(t, cl, "survivor")
	var acked []string
	push := func(item string) {
		t.Helper()
		delta, err := list.add(item, 1)
		must(t, err)
		must(t, cl.push(list.id(), delta))
		acked = append(acked, item)
	}
	for i := range 10 {
		push(fmt.Sprintf("before %d", i))
	}
	sub := watch(t, cl, list)
	welcome, err := cl.hello()
	must(t, err)

	must(t, faults.KillProxy(c, 0))
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	// StartProxy returns once every server has been welcomed by the new
	// proxy: each noticed the old one was gone and said hello again.
	must(t, faults.StartProxy(ctx, c, 0))

	// The client's sockets, never re-dialled, are served by the new proxy.
	got, err := cl.pull(list.id())
	if err != nil {
		t.Fatalf("pull after the proxy restart: %v", err)
	}
	if missing := missingItems(got, acked); len(missing) > 0 {
		t.Fatalf("after the proxy restart the list lacks acknowledged %v", missing)
	}
	again, err := cl.hello()
	must(t, err)
	if again.PubEndpoint != welcome.PubEndpoint {
		t.Errorf("PUB endpoint %q after the restart, was %q", again.PubEndpoint, welcome.PubEndpoint)
	}
	waitSubscribed(t, cl, sub, list) // live updates flow again
	for i := range 10 {
		push(fmt.Sprintf("after %d", i))
	}
	got, err = cl.pull(list.id())
	must(t, err)
	if missing := missingItems(got, acked); len(missing) > 0 {
		t.Fatalf("the list lacks acknowledged %v", missing)
	}
}
