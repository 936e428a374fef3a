package hashring

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// String returns the operator table written by WriteTable.
func (r *Ring) String() string {
	var b strings.Builder
	_ = r.WriteTable(&b) // a strings.Builder never fails
	return b.String()
}

// WriteTable writes an operator-readable description of r to w: the arcs
// (start, end] each server owns as primary, in ring order with positions in
// hex, followed by each server's total share of the ring.
func (r *Ring) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "hashring: %d servers, %d vnodes/server, %d points\n",
		len(r.servers), r.cfg.vnodes, len(r.pos))
	fmt.Fprintln(tw, "SERVER\tSTART (excl)\tEND (incl)\tSHARE")
	for _, g := range r.Ranges() {
		fmt.Fprintf(tw, "%s\t0x%016x\t0x%016x\t%7.3f%%\n",
			g.Server, g.Start, g.End, 100*g.Fraction())
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "SERVER\tTOTAL SHARE")
	shares := r.Shares()
	for _, s := range r.servers {
		fmt.Fprintf(tw, "%s\t%7.3f%%\n", s, 100*shares[s])
	}
	return tw.Flush()
}
