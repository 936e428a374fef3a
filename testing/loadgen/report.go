package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"shoplist/testing/ledger"
)

// Result is the outcome of a run.
type Result struct {
	Clients          int
	Duration         time.Duration // measured window
	Push, Pull, Live Histogram
	LiveMissed       int            // acknowledged measured pushes whose live update never came
	Unchanged        int            // pulls answered Unchanged (warm-up included): the state was not sent
	Errors           map[string]int // failed requests by error code ("Timeout", "Decode", …)
	Verdict          ledger.CounterVerdict
	Raw              *RawResult // nil without --raw
}

// Ratio is the cluster's throughput as a fraction of the raw ceiling.
type Ratio struct {
	Push  float64 `json:"push"`
	Pull  float64 `json:"pull"`
	Total float64 `json:"total"` // pushes and pulls together: the same request count as raw
}

// jsonResult is the --json object: exactly these keys (raw and ratio only
// with --raw).
type jsonResult struct {
	Push         Stats   `json:"push"`
	Pull         Stats   `json:"pull"`
	Live         Stats   `json:"live"`
	Acknowledged int64   `json:"acknowledged"`
	Lost         int64   `json:"lost"`
	Clients      int     `json:"clients"`
	DurationS    float64 `json:"duration_s"`
	Raw          *Stats  `json:"raw,omitempty"`
	Ratio        *Ratio  `json:"ratio,omitempty"`
}

// OK reports whether every acknowledged write was read back and nothing
// unwritten appeared.
func (r *Result) OK() bool { return r.Verdict.OK() }

func (r *Result) summary() jsonResult {
	j := jsonResult{
		Push:         r.Push.Summarize(r.Duration),
		Pull:         r.Pull.Summarize(r.Duration),
		Live:         r.Live.Summarize(r.Duration),
		Acknowledged: r.Verdict.Acknowledged,
		Lost:         r.Verdict.Lost,
		Clients:      r.Clients,
		DurationS:    r.Duration.Seconds(),
	}
	if r.Raw != nil {
		raw := r.Raw.Hist.Summarize(r.Raw.Window)
		j.Raw = &raw
		if raw.OpsPerSec > 0 {
			j.Ratio = &Ratio{
				Push:  j.Push.OpsPerSec / raw.OpsPerSec,
				Pull:  j.Pull.OpsPerSec / raw.OpsPerSec,
				Total: (j.Push.OpsPerSec + j.Pull.OpsPerSec) / raw.OpsPerSec,
			}
		}
	}
	return j
}

// WriteJSON writes the result as one JSON object on one line.
func (r *Result) WriteJSON(w io.Writer) error {
	b, err := json.Marshal(r.summary())
	if err != nil {
		return fmt.Errorf("loadgen: json: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// WriteTable writes the result for people.
func (r *Result) WriteTable(w io.Writer) error {
	j := r.summary()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "op\tops/s\tp50 ms\tp95 ms\tp99 ms\tcount\t\n")
	row := func(name string, s Stats, n uint64) {
		fmt.Fprintf(tw, "%s\t%.0f\t%.3f\t%.3f\t%.3f\t%d\t\n", name, s.OpsPerSec, s.P50ms, s.P95ms, s.P99ms, n)
	}
	row("push", j.Push, r.Push.Count())
	row("pull", j.Pull, r.Pull.Count())
	row("live", j.Live, r.Live.Count())
	if r.Raw != nil {
		row("raw", *j.Raw, r.Raw.Hist.Count())
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("loadgen: table: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d clients, %.1f s measured\n", r.Clients, r.Duration.Seconds())
	if j.Ratio != nil {
		fmt.Fprintf(&b, "ratio to the raw ceiling: push %.2f, pull %.2f, push+pull %.2f\n", j.Ratio.Push, j.Ratio.Pull, j.Ratio.Total)
	}
	fmt.Fprintf(&b, "live updates missed: %d of the measured acknowledged pushes\n", r.LiveMissed)
	fmt.Fprintf(&b, "pulls answered Unchanged (state not sent again): %d\n", r.Unchanged)
	fmt.Fprintf(&b, "errors: %s\n", r.errorLine())
	fmt.Fprintf(&b, "%s\n", r.Verdict)
	_, err := io.WriteString(w, b.String())
	return err
}

// errorLine lists the error counts, "none" if there were none.
func (r *Result) errorLine() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(r.Errors)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, r.Errors[k]))
	}
	if r.Raw != nil && r.Raw.Errors > 0 {
		parts = append(parts, fmt.Sprintf("raw Timeout %d", r.Raw.Errors))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
