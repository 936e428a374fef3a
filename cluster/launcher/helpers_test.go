package launcher

import (
	"testing"
	"time"
)

// testTimeout bounds every wait in these tests.
const testTimeout = 20 * time.Second

// serverIDs returns the IDs of c's servers, sorted.
func serverIDs(c *Cluster) []string {
	var ids []string
	for _, s := range c.Servers() {
		ids = append(ids, s.ID)
	}
	return ids
}

// serverInfo returns the launcher's view of server id.
func serverInfo(t *testing.T, c *Cluster, id string) ServerInfo {
	t.Helper()
	for _, s := range c.Servers() {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("no server %s", id)
	return ServerInfo{}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
