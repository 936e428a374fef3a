package bytesize

import (
	"errors"
	"flag"
	"testing"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "1048576": 1 << 20, "512MiB": 512 << 20, "512 mib": 512 << 20, "1GiB": 1 << 30,
		"64k": 64 << 10, "64KB": 64 << 10, "2G": 2 << 30, "100B": 100, " 3 MiB ": 3 << 20,
	} {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "-1MiB", "1.5GiB", "12 parsecs", "9223372036854775807KiB", "0x10"} {
		if _, err := Parse(in); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q): %v, want ErrSyntax", in, err)
		}
	}
}

func TestFormatRoundTrips(t *testing.T) {
	for n, want := range map[int64]string{0: "0B", 100: "100B", 1536 << 10: "1536KiB", 512 << 20: "512MiB", 1 << 30: "1GiB"} {
		got := Format(n)
		if got != want {
			t.Errorf("Format(%d) = %q, want %q", n, got, want)
		}
		if back, err := Parse(got); err != nil || back != n {
			t.Errorf("Parse(Format(%d)) = %d, %v", n, back, err)
		}
	}
	if got := Human(3<<20 + 200<<10); got != "3.2 MiB" {
		t.Errorf("Human = %q", got)
	}
	if got := Human(812); got != "812 B" {
		t.Errorf("Human = %q", got)
	}
}

func TestFlag(t *testing.T) {
	var n int64 = 512 << 20
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.Var(Value{&n}, "memory-budget", "")
	if err := fs.Parse([]string{"--memory-budget", "128MiB"}); err != nil || n != 128<<20 {
		t.Fatalf("parsed %d, %v", n, err)
	}
	if err := fs.Parse([]string{"--memory-budget", "lots"}); err == nil {
		t.Fatal("a bad size was accepted")
	}
}
