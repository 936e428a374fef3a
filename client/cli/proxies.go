package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"shoplist/internal/atomicfile"
	"shoplist/internal/curvekey"
)

// Files of the client's own in its data directory, beside the replica.
const (
	// proxiesFile remembers the proxies --proxy last named, one endpoint
	// with its key per line, so that later commands need no --proxy.
	proxiesFile = "proxies"
	// keyName names this install's CURVE key pair in DATA/curve, by which
	// proxies know it.
	keyName = "client"
)

// errNoProxy says that no proxy is known yet: the client edits offline.
var errNoProxy = errors.New("no proxy known yet: run a command once with --proxy tcp://HOST:PORT#KEY, the endpoint and key the service prints (\"ready: clients connect to …\", or `service status --endpoints`)")

// checkPinned refuses an endpoint that does not carry the proxy's key: a
// client speaks only to proxies whose key it pins, so that no other
// process on the network can pose as the cluster and mark edits synced.
func checkPinned(endpoints []string) error {
	for _, ep := range endpoints {
		addr, key, err := curvekey.SplitEndpoint(ep)
		switch {
		case err != nil:
			return fmt.Errorf("--proxy %s: %w", ep, err)
		case key == "":
			return fmt.Errorf("--proxy %s has no key: give tcp://HOST:PORT#KEY, the endpoint and key the service prints (\"ready: clients connect to …\", or `service status --endpoints`)", ep)
		case !strings.Contains(addr, "://"):
			return fmt.Errorf("--proxy %s is not transport://address#KEY", ep)
		}
		if err := checkAddress(addr); err != nil {
			return fmt.Errorf("--proxy %s: %w", ep, err)
		}
	}
	return nil
}

// checkAddress checks a tcp:// endpoint names a host and a port; other
// transports (ipc://, inproc://) are left to ZeroMQ.
func checkAddress(addr string) error {
	rest, ok := strings.CutPrefix(addr, "tcp://")
	if !ok {
		return nil
	}
	host, port, err := net.SplitHostPort(rest)
	if err != nil || host == "" {
		return fmt.Errorf("%s is not tcp://HOST:PORT", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%s: the port must be a number from 1 to 65535", addr)
	}
	return nil
}

// rememberProxies writes endpoints to DATA/proxies, replacing what it held.
func rememberProxies(data string, endpoints []string) error {
	if err := atomicfile.WriteFile(filepath.Join(data, proxiesFile), []byte(strings.Join(endpoints, "\n")+"\n")); err != nil {
		return fmt.Errorf("remembering the proxies: %w", err)
	}
	return nil
}

// rememberedProxies returns the endpoints DATA/proxies holds: none if the
// file does not exist, an error if it holds an endpoint without a key.
func rememberedProxies(data string) ([]string, error) {
	path, raw, err := remembered(data, proxiesFile)
	if err != nil {
		return nil, err
	}
	var eps []string
	for _, line := range strings.Split(raw, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			eps = append(eps, line)
		}
	}
	if err := checkPinned(eps); err != nil {
		return nil, fmt.Errorf("%s: %w (run with --proxy to replace it)", path, err)
	}
	return eps, nil
}

// remembered returns the path and the text of DATA/file: "" if it does not
// exist.
func remembered(data, file string) (path, text string, err error) {
	path = filepath.Join(data, file)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return path, "", nil
	}
	return path, string(raw), err
}

// installKey returns this install's CURVE key pair, made on first use in
// DATA/curve (secret key mode 0600).
func installKey(data string) (curvekey.Pair, error) {
	p, _, err := curvekey.LoadOrCreate(curvekey.DirIn(data), keyName)
	return p, err
}
