package curvekey

import (
	"errors"
	"fmt"
)

// z85Alphabet is the Z85 alphabet (ZeroMQ RFC 32): digit i of a base-85
// number is z85Alphabet[i].
const z85Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"

// z85Value maps a byte to its digit in the Z85 alphabet, or 0xff.
var z85Value = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := range len(z85Alphabet) {
		t[z85Alphabet[i]] = byte(i)
	}
	return t
}()

// ErrBadKey means a text is not a CURVE key in Z85.
var ErrBadKey = errors.New("curvekey: not a Z85 CURVE key")

// encodeZ85 encodes p, whose length is a multiple of 4, in Z85: each 4
// bytes, read big-endian, become 5 digits, most significant first.
func encodeZ85(p []byte) string {
	out := make([]byte, 0, len(p)/4*5)
	for i := 0; i+4 <= len(p); i += 4 {
		v := uint32(p[i])<<24 | uint32(p[i+1])<<16 | uint32(p[i+2])<<8 | uint32(p[i+3])
		var d [5]byte
		for j := 4; j >= 0; j-- {
			d[j] = z85Alphabet[v%85]
			v /= 85
		}
		out = append(out, d[:]...)
	}
	return string(out)
}

// decodeZ85 decodes s, whose length must be a multiple of 5, refusing any
// byte outside the alphabet and any group worth 2^32 or more.
func decodeZ85(s string) ([]byte, error) {
	if len(s)%5 != 0 {
		return nil, fmt.Errorf("%w: %d characters, not a multiple of 5", ErrBadKey, len(s))
	}
	out := make([]byte, 0, len(s)/5*4)
	for i := 0; i < len(s); i += 5 {
		var v uint64
		for j := range 5 {
			d := z85Value[s[i+j]]
			if d == 0xff {
				return nil, fmt.Errorf("%w: byte %d (%q) is not in the Z85 alphabet", ErrBadKey, i+j, s[i+j])
			}
			v = v*85 + uint64(d)
		}
		if v > 0xffffffff {
			return nil, fmt.Errorf("%w: characters %d to %d are out of range", ErrBadKey, i, i+4)
		}
		out = append(out, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return out, nil
}

// decodeKey decodes a key in Z85: exactly TextLen characters for Size bytes.
func decodeKey(s, what string) ([]byte, error) {
	if len(s) != TextLen {
		return nil, fmt.Errorf("%w: the %s is %d characters, want %d", ErrBadKey, what, len(s), TextLen)
	}
	p, err := decodeZ85(s)
	if err != nil {
		return nil, fmt.Errorf("the %s: %w", what, err)
	}
	return p, nil
}

// CheckPublic reports whether s is not a public key in Z85.
func CheckPublic(s string) error {
	_, err := decodeKey(s, "public key")
	return err
}
