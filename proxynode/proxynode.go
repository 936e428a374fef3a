// Package proxynode runs a proxy whose ring membership is decided by Raft:
// it opens a membership.Node in the proxy's data directory and hands it to
// proxy.Main. It exists because package membership imports package proxy,
// so proxy cannot open a Node itself.
//
// Today a proxy is a single-voter Raft group of its own; forwarding between
// several proxies comes later.
//
// The data directory (--data) holds:
//
//	proxy-id               this proxy's Raft ID, generated on first start
//	raft/raft.db           Raft's log and stable store
//	raft/snapshots/        Raft's snapshots
//	members.json.imported  the ring of an earlier proxy (proxy.Registry),
//	                       imported into Raft on the first start with Raft
package proxynode

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"shoplist/atomicfile"
	"shoplist/membership"
	"shoplist/protocol"
	"shoplist/proxy"
)

// Names inside the proxy's data directory.
const (
	IDFile = "proxy-id"
	// RaftDir holds membership.Config.Dir.
	RaftDir = "raft"
	// ImportedSuffix is appended to proxy.RegistryFile once its ring is
	// in Raft.
	ImportedSuffix = ".imported"
)

// ConfigureTimeout bounds Open's wait for a committed ring configuration.
const ConfigureTimeout = 30 * time.Second

// singleVoterTimeouts elect the lone voter in a fraction of a second
// instead of raft's default one to two seconds: with no peer there is no
// heartbeat to miss, and a proxy restart waits for the election. A group
// of several proxies will want raft's defaults (or flags).
var singleVoterTimeouts = membership.Timeouts{
	Heartbeat:   100 * time.Millisecond,
	Election:    100 * time.Millisecond,
	LeaderLease: 100 * time.Millisecond,
}

// Main runs the proxy command (see proxy.Main) with its membership decided
// by Raft.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return proxy.Main(ctx, args, stdout, stderr, Open)
}

// Open is the proxy.MembershipOpener of Main. It opens a single-voter
// membership.Node: in o.Data (persistent ID, Raft state in RaftDir) or, if
// o.Data is empty, in memory under a fresh ID. If o.Data holds a
// proxy.RegistryFile, its ring seeds a Raft state that has none yet and the
// file is renamed with ImportedSuffix. Open returns once a ring
// configuration is committed, with the committed N.
func Open(ctx context.Context, o proxy.MembershipOptions) (proxy.OpenedMembership, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	cfg := membership.Config{Bind: o.Raft, N: o.N, VNodes: o.VNodes, Timeouts: singleVoterTimeouts, Logger: o.Logger}
	regPath := ""
	if o.Data == "" {
		id, err := newID()
		if err != nil {
			return proxy.OpenedMembership{}, err
		}
		cfg.ID = id
	} else {
		if err := os.MkdirAll(o.Data, 0o755); err != nil {
			return proxy.OpenedMembership{}, fmt.Errorf("proxynode: %w", err)
		}
		id, err := loadOrCreateID(filepath.Join(o.Data, IDFile))
		if err != nil {
			return proxy.OpenedMembership{}, err
		}
		cfg.ID, cfg.Dir = id, filepath.Join(o.Data, RaftDir)
		regPath = filepath.Join(o.Data, proxy.RegistryFile)
		reg, ok, err := proxy.ReadRegistryFile(regPath)
		if err != nil {
			return proxy.OpenedMembership{}, err
		}
		if !ok {
			regPath = ""
		} else {
			// N was never recorded by the Registry: the flag's. Epoch 0
			// (a file written by hand) still names a ring: 1.
			cfg.Seed = &membership.Seed{Epoch: max(reg.Epoch, 1), N: o.N, VNodes: reg.VNodes, Members: reg.Members, Removed: reg.Removed}
		}
	}
	node, err := membership.Open(cfg)
	if err != nil {
		return proxy.OpenedMembership{}, err
	}
	fail := func(err error) (proxy.OpenedMembership, error) {
		return proxy.OpenedMembership{}, errors.Join(err, node.Close())
	}
	timer := time.NewTimer(ConfigureTimeout)
	defer timer.Stop()
	select {
	case <-node.Configured():
	case <-ctx.Done():
		return fail(fmt.Errorf("proxynode: waiting for the ring configuration: %w", ctx.Err()))
	case <-timer.C:
		return fail(fmt.Errorf("proxynode: no ring configuration committed within %v (leader %q)", ConfigureTimeout, leaderOf(node)))
	}
	body := node.EpochBody()
	if regPath != "" {
		// The ring is committed (the file's, or one Raft already had):
		// the file is no longer read.
		if err := renameDurably(regPath, regPath+ImportedSuffix); err != nil {
			return fail(fmt.Errorf("proxynode: setting the imported ring file aside: %w", err))
		}
		o.Logger.Info("ring membership taken over by raft", "from", regPath, "epoch", body.Epoch, "members", len(body.Members))
	}
	return proxy.OpenedMembership{Membership: node, N: int(body.N), Addr: node.Addr(), Close: node.Close}, nil
}

// leaderOf names the node's leader, for an error.
func leaderOf(n *membership.Node) string {
	id, _ := n.Leader()
	return id
}

// newID returns a fresh proxy ID.
func newID() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("proxynode: generating a proxy ID: %w", err)
	}
	return "proxy-" + hex.EncodeToString(b[:]), nil
}

// loadOrCreateID returns the proxy ID kept at path, creating it on first
// use. The Raft store's lock (raft.db), taken right after, keeps a second
// proxy off the directory; two racing for a missing file both write a
// complete one, and the loser fails on the lock.
func loadOrCreateID(path string) (string, error) {
	raw, err := os.ReadFile(path)
	switch {
	case err == nil:
		id := strings.TrimSpace(string(raw))
		if err := protocol.CheckServerID(id); err != nil {
			return "", fmt.Errorf("proxynode: %s does not hold a proxy ID: %w", path, err)
		}
		return id, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("proxynode: reading the proxy ID: %w", err)
	}
	id, err := newID()
	if err != nil {
		return "", err
	}
	if err := atomicfile.WriteFile(path, []byte(id+"\n")); err != nil {
		return "", fmt.Errorf("proxynode: recording the proxy ID: %w", err)
	}
	return id, nil
}

// renameDurably renames from to to and syncs the directory.
func renameDurably(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return err
	}
	return atomicfile.SyncDir(filepath.Dir(to))
}
