//go:build partition

package partition

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"shoplist/crdt"
	"shoplist/testing/converge"
	"shoplist/testing/ledger"
	"shoplist/testing/testcluster"
)

// driverEnv carries a client group's configuration (JSON) when the test
// binary runs again as one, in the group's namespace.
const driverEnv = "SHOPLIST_PARTITION_DRIVER"

// driverConfig configures one client group.
type driverConfig struct {
	Group       int
	Endpoints   []string // every proxy's client endpoint, the group's home proxy first
	Writers     int
	FirstIndex  int
	Private     int
	Shared      int         // lists this group creates for everyone (group 0)
	SharedLists []uuid.UUID // lists created by group 0, for the others
	Items       int
	Pace        time.Duration
	DevicePace  time.Duration
	Seed        uint64
	SentSocket  string
	Dir         string // for the device's replica and the reports
}

// The files a group writes in its Dir.
const (
	ledgerFile = "ledger.json"
	statsFile  = "stats.json"
	checkFile  = "check.json"
)

// groupStats is what a group reports when its writers stop.
type groupStats struct {
	Writers        testcluster.WriteStats
	DeviceEdits    int64
	DeviceOffline  int64         // edits made while the device's engine was not online
	DeviceSyncTime time.Duration // from the stop to the device's edits all pushed
	DeviceSyncErr  string
	// Problems are the writers' own failures (testcluster.Writers.Stop's
	// error: one stopped early, or pulled what nobody sent).
	Problems []string
}

// groupCheck is what a group reads back after convergence: the lists of a
// fresh client and of its device, each synced through the group's proxy
// first, and a quorum read of every list through that proxy; each list by
// its canonical encoding.
type groupCheck struct {
	Client map[uuid.UUID][]byte
	Device map[uuid.UUID][]byte
	Pulled map[uuid.UUID][]byte
}

// The control protocol, one line each way: the group says "ready
// lists=ID,..." once writing; the test says "stop" (writers stop, the
// device stops editing and syncs; the group writes its ledger and stats
// and says "stopped"), then "check ID,..." (the group syncs and reads
// those lists and writes them, then says "checked"); closing stdin ends
// it. "error: ..." reports a failure, after which it exits 1.

// driverMain runs a client group; its exit code is the process's.
func driverMain(raw string) int {
	var cfg driverConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		fmt.Printf("error: %s: %v\n", driverEnv, err)
		return 1
	}
	if err := runDriver(cfg); err != nil {
		fmt.Printf("error: %v\n", err)
		return 1
	}
	return 0
}

// driverFail reports a failure that leaves the group unable to go on (its
// Sent connection broke) and exits.
func driverFail(err error) {
	fmt.Printf("error: %v\n", err)
	os.Exit(1)
}

func runDriver(cfg driverConfig) error {
	sent, err := dialSent(cfg.SentSocket, driverFail)
	if err != nil {
		return err
	}
	defer sent.close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	w, err := testcluster.StartWriters(ctx, testcluster.WriterConfig{
		Endpoints: cfg.Endpoints, Clients: cfg.Writers, Private: cfg.Private, Shared: cfg.Shared, SharedLists: cfg.SharedLists,
		Items: cfg.Items, Timeout: 3 * time.Second, Pace: cfg.Pace, FirstIndex: cfg.FirstIndex, SameStart: true, Sent: sent,
	})
	if err != nil {
		cancel()
		return err
	}
	lists, shared := w.Lists(), w.Shared()
	dev, err := startDevice(ctx, fmt.Sprintf("device %d", cfg.Group), filepath.Join(cfg.Dir, "device"), cfg.Endpoints,
		shared, cfg.Items, sent, cfg.Seed, cfg.DevicePace)
	cancel()
	if err != nil {
		w.Stop()
		return err
	}
	defer dev.close()
	fmt.Printf("ready lists=%s shared=%s\n", joinIDs(lists), joinIDs(shared))

	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		cmd, arg, _ := strings.Cut(in.Text(), " ")
		switch cmd {
		case "stop":
			if err := stopGroup(cfg, w, dev); err != nil {
				return err
			}
			fmt.Println("stopped")
		case "check":
			ids, err := parseIDs(arg)
			if err != nil {
				return err
			}
			if err := checkGroup(cfg, dev, ids); err != nil {
				return err
			}
			fmt.Println("checked")
		default:
			return fmt.Errorf("unknown command %q", in.Text())
		}
	}
	return nil
}

// stopGroup stops the writers and the device's edits, waits (a minute at
// most) for the device to push what it edited, and writes the group's
// ledger and figures.
func stopGroup(cfg driverConfig, w *testcluster.Writers, dev *device) error {
	all, stats, werr := w.Stop()
	devLedger, derr := dev.stop()
	if derr != nil {
		return derr
	}
	all.Add(devLedger)
	gs := groupStats{Writers: stats, DeviceEdits: dev.edits.Load(), DeviceOffline: dev.offline.Load()}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	err := dev.eng.WaitSynced(ctx)
	cancel()
	gs.DeviceSyncTime = time.Since(start)
	if err != nil {
		gs.DeviceSyncErr = err.Error()
	}
	if werr != nil {
		// The test reports it; the ledger still holds.
		gs.Problems = strings.Split(werr.Error(), "\n")
	}
	enc, err := all.MarshalBinary()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(cfg.Dir, ledgerFile), enc, 0o644); err != nil {
		return err
	}
	return writeJSON(filepath.Join(cfg.Dir, statsFile), gs)
}

// checkGroup syncs a fresh client and the device (each joining every
// list) and reads every list through the group's proxy, and writes what
// they hold.
func checkGroup(cfg driverConfig, dev *device, ids []uuid.UUID) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	client, err := converge.SyncClient(ctx, filepath.Join(cfg.Dir, "check-client"), cfg.Endpoints, ids)
	if err != nil {
		return fmt.Errorf("a fresh client: %w", err)
	}
	devLists, err := converge.SyncAll(ctx, dev.eng, dev.store, ids)
	if err != nil {
		return fmt.Errorf("the device: %w", err)
	}
	_, pulled, err := testcluster.Pull(ctx, cfg.Endpoints[0], ids, ledger.New(), 3*time.Second)
	if err != nil {
		return err
	}
	return writeJSON(filepath.Join(cfg.Dir, checkFile), groupCheck{Client: encodeAll(client), Device: encodeAll(devLists), Pulled: encodeAll(pulled)})
}

func encodeAll(lists map[uuid.UUID]*crdt.List) map[uuid.UUID][]byte {
	out := map[uuid.UUID][]byte{}
	for id, l := range lists {
		if l != nil {
			out[id] = l.Encode()
		}
	}
	return out
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func joinIDs(ids []uuid.UUID) string {
	var s []string
	for _, id := range ids {
		s = append(s, id.String())
	}
	return strings.Join(s, ",")
}

func parseIDs(s string) ([]uuid.UUID, error) {
	var out []uuid.UUID
	for _, f := range strings.Split(s, ",") {
		if f == "" {
			continue
		}
		id, err := uuid.Parse(f)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, nil
}
