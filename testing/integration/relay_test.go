package integration

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// TestAPushThroughOneProxyReachesSubscribersOfEveryProxy: in a group of
// three proxies, a push acknowledged through proxy 0 is published by
// proxies 1 and 2 as well, within a second of the acknowledgement.
func TestAPushThroughOneProxyReachesSubscribersOfEveryProxy(t *testing.T) {
	t.Parallel()
	c := launchGroup(t, 3, 3)
	eps := c.ClientEndpoints()
	writer := dial(t, eps[0])
	if _, err := writer.hello(); err != nil {
		t.Fatal(err)
	}
	r := pushNew(t, writer, "shared across proxies")
	var subs []*subscriber
	for i := 1; i < 3; i++ {
		w, err := dial(t, eps[i]).hello()
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, subscribeLive(t, w.PubEndpoint, r.id()))
	}
	// The SUBs' subscriptions reach their PUBs asynchronously: edit until
	// each subscriber has heard an edit, then time one more.
	heard := make([]bool, len(subs))
	deadline := time.Now().Add(groupTimeout)
	for n := 0; !heard[0] || !heard[1]; n++ {
		if time.Now().After(deadline) {
			t.Fatalf("subscribers on proxies 1 and 2 heard %v", heard)
		}
		delta, err := r.add(fmt.Sprintf("item %d", n), 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := writer.push(r.id(), delta); err != nil {
			t.Fatal(err)
		}
		for i, s := range subs {
			if m, err := s.next(200 * time.Millisecond); err == nil && bytes.Equal(m.Body, delta) {
				heard[i] = true
			}
		}
	}
	delta, err := r.add("timed", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := writer.push(r.id(), delta); err != nil {
		t.Fatal(err)
	}
	acked := time.Now()
	for i, s := range subs {
		for {
			m, err := s.next(time.Second - time.Since(acked))
			if err != nil {
				t.Fatalf("proxy %d's subscriber: %v within a second of the acknowledgement", i+1, err)
			}
			if bytes.Equal(m.Body, delta) {
				t.Logf("proxy %d published it %v after the acknowledgement", i+1, time.Since(acked))
				break
			}
		}
	}
}
