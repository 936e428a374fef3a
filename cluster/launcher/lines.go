package launcher

import (
	"bufio"
	"io"
	"sync"
)

// tailLines is how many of a child's last stderr lines an error quotes.
const tailLines = 5

// maxLineLen caps one line read from a child; the rest of a longer line is
// read as further lines.
const maxLineLen = 64 << 10

// lineWriter writes whole lines to one writer from many goroutines, so that
// the children's output does not interleave within a line.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// line writes prefix, s and a newline in one Write.
func (lw *lineWriter) line(prefix, s string) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	io.WriteString(lw.w, prefix+s+"\n") // best effort: a log sink that fails has nowhere to report it
}

// tail keeps the last tailLines lines written to it.
type tail struct {
	mu    sync.Mutex
	lines []string
}

func (t *tail) add(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == tailLines {
		copy(t.lines, t.lines[1:])
		t.lines = t.lines[:tailLines-1]
	}
	t.lines = append(t.lines, s)
}

// last returns a copy of the kept lines, oldest first.
func (t *tail) last() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.lines...)
}

// readLines calls fn with each line read from r, without its newline, until
// r ends or fails.
func readLines(r io.Reader, fn func(string)) {
	br := bufio.NewReaderSize(r, maxLineLen)
	for {
		line, _, err := br.ReadLine()
		if len(line) > 0 || err == nil {
			fn(string(line))
		}
		if err != nil {
			return
		}
	}
}
