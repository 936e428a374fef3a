package curvekey

import (
	"fmt"
	"strings"
)

// keySep separates an endpoint from the public key of the server behind
// it: tcp://HOST:PORT#KEY. ZeroMQ endpoints never hold it; Z85 keys may,
// so an endpoint is cut at its first one.
const keySep = "#"

// JoinEndpoint returns endpoint with the server's public key attached:
// ENDPOINT#KEY.
func JoinEndpoint(endpoint, key string) string { return endpoint + keySep + key }

// SplitEndpoint cuts ENDPOINT#KEY into the endpoint and the public key it
// carries, checking the key; an endpoint without one has key "".
func SplitEndpoint(s string) (endpoint, key string, err error) {
	endpoint, key, found := strings.Cut(s, keySep)
	if !found {
		return s, "", nil
	}
	if endpoint == "" {
		return "", "", fmt.Errorf("curvekey: %q has a key but no endpoint", s)
	}
	if err := CheckPublic(key); err != nil {
		return "", "", fmt.Errorf("curvekey: endpoint %s: %w", endpoint, err)
	}
	return endpoint, key, nil
}
