package memstats

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
)

// Resident is the process's resident set, from /proc/self/status, in
// bytes: all of it, and its anonymous (heaps, stacks, caches) and
// file-backed (the binary and shared libraries) parts.
type Resident struct {
	Total, Anon, File int64
}

// ReadResident returns the process's resident set; on a system without
// /proc/self/status it returns zeros.
func ReadResident() Resident {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return Resident{}
	}
	return parseStatus(raw)
}

// parseStatus reads the VmRSS, RssAnon and RssFile lines of a
// /proc/PID/status, which the kernel gives in kB.
func parseStatus(raw []byte) Resident {
	var r Resident
	fields := map[string]*int64{"VmRSS:": &r.Total, "RssAnon:": &r.Anon, "RssFile:": &r.File}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) < 2 {
			continue
		}
		if p, ok := fields[string(f[0])]; ok {
			if kb, err := strconv.ParseInt(string(f[1]), 10, 64); err == nil {
				*p = kb << 10
			}
		}
	}
	return r
}
