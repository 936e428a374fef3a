// Package bytesize reads and writes sizes in bytes as people give them on
// command lines: "512MiB", "1GiB", "64k", "1048576".
package bytesize

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrSyntax means a size could not be read.
var ErrSyntax = errors.New("bytesize: want a whole number of bytes with an optional unit (KiB, MiB, GiB; K, M, G and KB, MB, GB mean the same)")

// units are the suffixes Parse accepts, binary all: a memory budget is
// spoken of in pages and mebibytes, and "MB" meaning 10^6 here would
// surprise more than it helps.
var units = []struct {
	suffix string
	shift  uint
}{
	{"kib", 10}, {"mib", 20}, {"gib", 30}, {"tib", 40},
	{"kb", 10}, {"mb", 20}, {"gb", 30}, {"tb", 40},
	{"k", 10}, {"m", 20}, {"g", 30}, {"t", 40},
	{"b", 0},
}

// Parse reads a non-negative size: digits, then an optional unit, case
// insensitive, with optional space between.
func Parse(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	shift := uint(0)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, shift = strings.TrimSpace(rest), u.shift
			break
		}
	}
	n, err := strconv.ParseUint(t, 10, 63)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", ErrSyntax, s)
	}
	if n > math.MaxInt64>>shift {
		return 0, fmt.Errorf("%w: %q is too large", ErrSyntax, s)
	}
	return int64(n) << shift, nil
}

// Format writes n in the largest binary unit that divides it exactly, so
// that Parse(Format(n)) == n: "512MiB", "1536KiB", "100B".
func Format(n int64) string {
	for _, u := range []struct {
		suffix string
		shift  uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}} {
		if n != 0 && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// Human writes n rounded to one decimal in the largest unit it reaches,
// for messages: "3.2 MiB", "812 B".
func Human(n int64) string {
	const unit = 1024
	if n < unit && n > -unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	f, i := float64(n), 0
	for ; (f >= unit*unit || f <= -unit*unit) && i < 3; i++ {
		f /= unit
	}
	return strconv.FormatFloat(f/unit, 'f', 1, 64) + " " + [...]string{"KiB", "MiB", "GiB", "TiB"}[i]
}

// Value is a size as a flag.Value.
type Value struct{ P *int64 }

// String implements flag.Value.
func (v Value) String() string {
	if v.P == nil {
		return ""
	}
	return Format(*v.P)
}

// Set implements flag.Value.
func (v Value) Set(s string) error {
	n, err := Parse(s)
	if err != nil {
		return err
	}
	*v.P = n
	return nil
}
