package launcher

import (
	"strings"

	"shoplist/cluster/proxy"
	"shoplist/internal/curvekey"
)

// The ready lines the roles print on stdout (see the package doc).
const (
	proxyReadyPrefix  = "proxy ready: "
	serverReadyPrefix = "server ready: "
)

// readyFields parses the "key=value key=value" part of a ready line that
// starts with prefix; ok is false for any other line.
func readyFields(line, prefix string) (fields map[string]string, ok bool) {
	rest, found := strings.CutPrefix(line, prefix)
	if !found {
		return nil, false
	}
	fields = map[string]string{}
	for _, f := range strings.Fields(rest) {
		if k, v, found := strings.Cut(f, "="); found {
			fields[k] = v
		}
	}
	return fields, true
}

// proxyAddrs is what a proxy's ready line says about where it listens.
type proxyAddrs struct {
	eps   proxy.Endpoints
	raft  string // its Raft address, HOST:PORT; "" if the line has none
	admin string // its admin API, HOST:PORT; "" if the line has none
}

// parseProxyReady parses a proxy ready line ("proxy ready:
// client=tcp://H:P#KEY pub=tcp://H:P#KEY backend=tcp://H:P#KEY raft=H:P
// admin=H:P"; an endpoint without CURVE has no #KEY).
func parseProxyReady(line string) (a proxyAddrs, ok bool) {
	f, ok := readyFields(line, proxyReadyPrefix)
	if !ok {
		return proxyAddrs{}, false
	}
	var eps proxy.Endpoints
	var pubKey string
	for _, e := range []struct {
		field         string
		endpoint, key *string
	}{{"client", &eps.Client, &eps.ClientKey}, {"pub", &eps.Pub, &pubKey}, {"backend", &eps.Backend, &eps.BackendKey}} {
		var err error
		if *e.endpoint, *e.key, err = curvekey.SplitEndpoint(f[e.field]); err != nil || *e.endpoint == "" {
			return proxyAddrs{}, false
		}
	}
	if pubKey != eps.ClientKey { // one key serves both client sockets
		return proxyAddrs{}, false
	}
	return proxyAddrs{eps: eps, raft: f["raft"], admin: f["admin"]}, true
}

// parseServerReady returns the server ID and the proxy backend endpoint of
// a server ready line ("server ready: id=ID proxy=ENDPOINT epoch=N").
func parseServerReady(line string) (id, proxyEndpoint string, ok bool) {
	f, ok := readyFields(line, serverReadyPrefix)
	if !ok || f["id"] == "" {
		return "", "", false
	}
	return f["id"], f["proxy"], true
}
