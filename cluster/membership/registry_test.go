package membership

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shoplist/cluster/placement"
)

func TestRegistryKeepsTheRingAcrossRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "members.json")
	r, err := NewRegistry(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, id := range []string{"b", "a", "c", "a"} {
		if err := r.Join(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Remove(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if err := r.Remove(ctx, "zz"); !errors.Is(err, placement.ErrNotMember) {
		t.Fatalf("removing a stranger: %v", err)
	}
	before := r.View()
	if before.Epoch != 4 { // three joins and one removal changed it
		t.Fatalf("epoch %d, want 4", before.Epoch)
	}
	again, err := NewRegistry(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	after := again.View()
	if after.Epoch != before.Epoch || after.Ring.String() != before.Ring.String() {
		t.Fatalf("reloaded epoch %d ring\n%s\nwant epoch %d ring\n%s", after.Epoch, after.Ring, before.Epoch, before.Ring)
	}
	if _, err := NewRegistry(path, 8); !errors.Is(err, ErrConfig) {
		t.Fatalf("vnodes mismatch: %v", err)
	}
	os.WriteFile(path, []byte("{not json"), 0o644)
	if _, err := NewRegistry(path, 3); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("damaged file: %v", err)
	}
}

func TestRegistrySignalsChanges(t *testing.T) {
	r, _ := NewRegistry("", 3)
	r.Join(context.Background(), "a")
	select {
	case <-r.Changes():
	default:
		t.Fatal("no change signalled after a join")
	}
	r.Join(context.Background(), "a") // already a member: no change
	select {
	case <-r.Changes():
		t.Fatal("a no-op join signalled a change")
	default:
	}
}
