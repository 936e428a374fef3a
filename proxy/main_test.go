package proxy

import "testing"

func TestRaftAddressDefaultsToPortPlusThree(t *testing.T) {
	for listen, want := range map[string]string{
		"127.0.0.1:5555":  "127.0.0.1:5558",
		"127.0.0.1:0":     "127.0.0.1:0",
		"0.0.0.0:5555":    "127.0.0.1:5558",
		"*:5555":          "127.0.0.1:5558",
		"[::1]:6000":      "[::1]:6003",
		"127.0.0.1:65533": "",
		"nonsense":        "",
	} {
		got, err := raftFrom(listen)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("raftFrom(%q) = %q, %v; want %q", listen, got, err, want)
		}
	}
}
