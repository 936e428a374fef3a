package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	zmq "github.com/pebbe/zmq4"

	"shoplist/internal/curvekey"
)

// keyName names the server's key files in curvekey.DirIn(Dir):
// server.key (secret) and server.pub, the file an operator admits.
const keyName = "server"

// LoadOrCreateKey returns the CURVE key pair of the server whose data
// directory is dir, creating it on first use in dir/curve (see
// curvekey.LoadOrCreate). The server connects to the proxies with it;
// `proxy admit` takes its public key, or PublicKeyFile(dir).
func LoadOrCreateKey(dir string) (curvekey.Pair, error) {
	p, _, err := curvekey.LoadOrCreate(curvekey.DirIn(dir), keyName)
	if err != nil {
		return curvekey.Pair{}, fmt.Errorf("server: %w", err)
	}
	return p, nil
}

// PublicKeyFile returns the file holding the public key of the server
// whose data directory is dir.
func PublicKeyFile(dir string) string { return curvekey.PublicPath(curvekey.DirIn(dir), keyName) }

// proxyEndpoint is a proxy's backend as the server dials it: the endpoint
// and the public key the proxy must prove it holds ("" for an insecure
// backend).
type proxyEndpoint struct {
	endpoint, key string
}

// parseProxies splits each ENDPOINT#KEY (curvekey.SplitEndpoint); every
// endpoint must carry a key unless insecure, and none may then.
func parseProxies(eps []string, insecure bool) ([]proxyEndpoint, error) {
	seen := map[string]bool{}
	var out []proxyEndpoint
	for _, s := range eps {
		ep, key, err := curvekey.SplitEndpoint(s)
		switch {
		case err != nil:
			return nil, err
		case !strings.Contains(ep, "://") || seen[ep]:
			return nil, fmt.Errorf("proxy endpoint %q is not transport://address, or repeated", ep)
		case key == "" && !insecure:
			return nil, fmt.Errorf("proxy endpoint %q has no key: give ENDPOINT#KEY with the proxy's backend key "+
				"(backend=ENDPOINT#KEY on its ready line, or DATA/curve/proxy.pub of the proxy)", ep)
		case key != "" && insecure:
			return nil, fmt.Errorf("proxy endpoint %q has a key, but the backend is insecure", ep)
		}
		seen[ep] = true
		out = append(out, proxyEndpoint{endpoint: ep, key: key})
	}
	return out, nil
}

// socketIdentity returns the routing identity of a new connection of
// server id: under CURVE, the ID and a random part, so that no other
// server, admitted or not, can guess it and take the connection's place
// in the proxy's ROUTER (which hands a routing identity over to its
// latest connection); the proxy knows the server by its key, not by this
// name. Without CURVE the ID itself, by which the proxy knows it then.
func socketIdentity(id string, curve bool) (string, error) {
	if !curve {
		return id, nil
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("server: random socket identity: %w", err)
	}
	return id + "/" + hex.EncodeToString(b[:]), nil
}

// curveClient makes sock a CURVE client with pair that accepts only the
// proxy holding the secret of key.
func curveClient(sock *zmq.Socket, key string, pair curvekey.Pair) error {
	for _, set := range []func() error{
		func() error { return sock.SetCurveServerkey(key) },
		func() error { return sock.SetCurvePublickey(pair.Public) },
		func() error { return sock.SetCurveSecretkey(pair.Secret) },
	} {
		if err := set(); err != nil {
			return err
		}
	}
	return nil
}
