package integration

import (
	"testing"
	"time"

	"shoplist/cluster/launcher"
)

// testTimeout bounds every wait in these tests.
const testTimeout = 20 * time.Second

// serverIDs returns the IDs of c's servers, sorted.
func serverIDs(c *launcher.Cluster) []string {
	var ids []string
	for _, s := range c.Servers() {
		ids = append(ids, s.ID)
	}
	return ids
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
