// Package curvekey makes, keeps and checks the CurveZMQ key pairs of proxies and storage servers, and parses endpoints that carry a proxy's public key.
package curvekey

import (
	"crypto/ecdh"
	"crypto/rand"
	"fmt"
)

// Sizes of a key: Size bytes, written as TextLen characters of Z85.
const (
	Size    = 32
	TextLen = Size / 4 * 5
)

// Pair is a CurveZMQ key pair in Z85, as ZeroMQ's socket options take
// it. CurveZMQ keys are X25519 keys, so the standard library makes them.
type Pair struct {
	Public, Secret string
}

// Generate returns a new random key pair.
func Generate() (Pair, error) {
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return Pair{}, fmt.Errorf("curvekey: generating a key pair: %w", err)
	}
	return Pair{Public: encodeZ85(k.PublicKey().Bytes()), Secret: encodeZ85(k.Bytes())}, nil
}

// FromSecret returns the pair of a secret key in Z85, deriving its public
// key.
func FromSecret(secret string) (Pair, error) {
	p, err := decodeKey(secret, "secret key")
	if err != nil {
		return Pair{}, err
	}
	k, err := ecdh.X25519().NewPrivateKey(p)
	if err != nil {
		return Pair{}, fmt.Errorf("%w: %w", ErrBadKey, err)
	}
	return Pair{Public: encodeZ85(k.PublicKey().Bytes()), Secret: secret}, nil
}

// String shows the public key only, so that a Pair in a log or an error
// never shows its secret.
func (p Pair) String() string { return "curve key " + p.Public }
