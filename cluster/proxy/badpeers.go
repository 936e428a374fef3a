package proxy

import (
	"encoding/hex"
	"log/slog"
	"time"
)

// Bad-input logging limits: one line per peer and socket per badLogEvery,
// with a count of what was suppressed, and at most badPeersMax peers
// remembered (a flood of fresh identities resets the memory rather than
// growing it).
const (
	badLogEvery = 10 * time.Second
	badPeersMax = 4096
)

// badPeers logs bad input once per peer and period, so a hostile or broken
// peer cannot flood the log.
type badPeers struct {
	last       map[string]time.Time
	suppressed map[string]int
}

// report logs err for the peer unless it was logged recently.
func (b *badPeers) report(log *slog.Logger, now time.Time, socket string, identity []byte, err error) {
	b.warn(log, now, "bad message", socket+"\x00"+string(identity), "socket", socket, "peer", showIdentity(identity), "err", err)
}

// warn logs msg with attrs unless it was logged for key recently; the
// line says how many were suppressed since the last.
func (b *badPeers) warn(log *slog.Logger, now time.Time, msg, key string, attrs ...any) {
	if b.last == nil || len(b.last) >= badPeersMax {
		b.last, b.suppressed = map[string]time.Time{}, map[string]int{}
	}
	if t, ok := b.last[key]; ok && now.Sub(t) < badLogEvery {
		b.suppressed[key]++
		return
	}
	log.Warn(msg, append(attrs, "suppressed", b.suppressed[key])...)
	b.last[key], b.suppressed[key] = now, 0
}

// showIdentity prints a routing identity: as text when it is a printable
// server ID, else in hex (ZeroMQ's generated client identities are binary).
func showIdentity(id []byte) string {
	for _, c := range id {
		if c < 0x21 || c > 0x7e {
			return "0x" + hex.EncodeToString(id)
		}
	}
	return string(id)
}
