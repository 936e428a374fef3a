package proxynode

import (
	"fmt"
	"log/slog"

	"shoplist/internal/curvekey"
)

// KeyName names the proxy's CURVE key files in curvekey.DirIn(DATA):
// proxy.key (secret) and proxy.pub.
const KeyName = "proxy"

// backendKey returns the proxy's CURVE key pair, of its backend and its
// client sockets alike: made once in DATA/curve and kept there, so that
// servers and clients given the proxy's public key keep reaching it across
// restarts. Without a data directory it is a new pair in memory, which
// servers and clients must be given again after every restart.
func backendKey(data string, log *slog.Logger) (curvekey.Pair, error) {
	if data == "" {
		p, err := curvekey.Generate()
		if err != nil {
			return curvekey.Pair{}, fmt.Errorf("proxynode: %w", err)
		}
		log.Warn("no --data: the proxy's CURVE key is in memory only; servers and clients must be given the new one after each restart", "key", p.Public)
		return p, nil
	}
	dir := curvekey.DirIn(data)
	p, created, err := curvekey.LoadOrCreate(dir, KeyName)
	if err != nil {
		return curvekey.Pair{}, fmt.Errorf("proxynode: the backend's CURVE key: %w", err)
	}
	if created {
		log.Info("made the proxy's CURVE key pair", "dir", dir, "key", p.Public)
	}
	return p, nil
}
