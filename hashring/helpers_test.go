package hashring

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// numHash is a hash computable by hand: it drops the dashes and parses the
// rest as a decimal number, so virtual node i of server "4" ("4-i") sits at
// 40+i and key "25" sits at 25.
func numHash(s string) uint64 {
	v, err := strconv.ParseUint(strings.ReplaceAll(s, "-", ""), 10, 64)
	if err != nil {
		panic(fmt.Sprintf("numHash(%q): %v", s, err))
	}
	return v
}

// zeroHash puts everything at position 0.
func zeroHash(string) uint64 { return 0 }

// tableHash hashes through a fixed table; unknown strings panic.
func tableHash(table map[string]uint64) HashFunc {
	return func(s string) uint64 {
		v, ok := table[s]
		if !ok {
			panic(fmt.Sprintf("tableHash: no entry for %q", s))
		}
		return v
	}
}

// members returns the server IDs "server-1" .. "server-n".
func members(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "server-" + strconv.Itoa(i+1)
	}
	return out
}

// uuidKeys returns n random version-4 UUIDs in canonical form, reproducibly
// for a given seed.
func uuidKeys(seed uint64, n int) []string {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]string, n)
	var b [16]byte
	for i := range out {
		for j := 0; j < 16; j += 8 {
			v := rng.Uint64()
			for k := range 8 {
				b[j+k] = byte(v >> (8 * k))
			}
		}
		b[6] = b[6]&0x0f | 0x40 // version 4
		b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
		out[i] = fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
	}
	return out
}
