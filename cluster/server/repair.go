package server

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"shoplist/storage"
)

// repairUsage is the synopsis of `server repair`.
const repairUsage = "usage: server repair --data DIR [--repair LIST|all | --discard LIST | --clear LIST|all]"

// repairMain is `server repair`: the operator's remedies for corruption, on
// the store of a stopped server. Without an action it lists the damaged
// lists (those the server refuses until repaired: corrupt values it did not
// drop on its own, storage/heal.go) and the quarantined values. --repair
// drops a list's corrupt parts and keeps the rest (storage.Store.Repair),
// --discard drops the whole list (storage.Store.Discard), --clear deletes
// the quarantined copies of a list's values (storage.Store.ClearQuarantine);
// the other replicas make a repaired or discarded list whole again once the
// server is back. It returns the exit code: 0, 1 on a failure, 2 on a usage
// error.
func repairMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("server repair", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("data", "", "data `directory` of the stopped server (required)")
	repair := fs.String("repair", "", "drop the corrupt parts of `LIST` (an ID, or all: every damaged list), keeping the rest")
	discard := fs.String("discard", "", "drop the whole list `LIST`, quarantining its corrupt parts")
	clear := fs.String("clear", "", "delete the quarantined copies of the values of `LIST` (an ID, or all)")
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stderr, repairUsage)
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		return 0
	}
	actions := 0
	for _, a := range []string{*repair, *discard, *clear} {
		if a != "" {
			actions++
		}
	}
	switch {
	case err != nil:
	case fs.NArg() > 0:
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case *dir == "":
		err = errors.New("--data is required")
	case actions > 1:
		err = errors.New("give at most one of --repair, --discard and --clear")
	case *discard == "all":
		err = errors.New("--discard takes one list ID")
	}
	if err != nil {
		fmt.Fprintf(stderr, "server repair: %v\n%s\n", err, repairUsage)
		return 2
	}
	st, err := openForRepair(*dir, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "server repair: %v\n", err)
		return 1
	}
	defer st.Close()
	r := repairer{st: st, out: stdout}
	switch {
	case *repair != "":
		err = r.each(*repair, st.Damaged, r.repair)
	case *discard != "":
		err = r.each(*discard, nil, r.discard)
	case *clear != "":
		err = r.each(*clear, r.quarantinedLists, r.clear)
	default:
		err = r.list()
	}
	if err != nil {
		fmt.Fprintf(stderr, "server repair: %v\n", err)
		return 1
	}
	return 0
}

// openForRepair opens the store of the stopped server in dir as it is:
// without healing or setting anything aside, and never creating one.
func openForRepair(dir string, stderr io.Writer) (*storage.Store, error) {
	if _, err := os.Stat(filepath.Join(dir, "pebble")); err != nil {
		return nil, fmt.Errorf("no store in %s: %w", dir, err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := storage.Open(dir, storage.Options{Logger: log, Owner: "server repair"})
	switch {
	case errors.Is(err, storage.ErrLocked):
		return nil, fmt.Errorf("%w; stop the server first", err)
	case errors.Is(err, storage.ErrStoreCorrupt):
		return nil, fmt.Errorf("%w; the server sets such a store aside when it starts and the other replicas refill it", err)
	}
	return st, err
}

// repairer carries out the actions of `server repair` on one store.
type repairer struct {
	st  *storage.Store
	out io.Writer
}

// each applies do to the list arg names, or, if arg is "all" and all is not
// nil, to every list all returns.
func (r repairer) each(arg string, all func() ([]uuid.UUID, error), do func(uuid.UUID) error) error {
	if arg != "all" || all == nil {
		id, err := uuid.Parse(arg)
		if err != nil {
			return fmt.Errorf("%q is not a list ID: %w", arg, err)
		}
		return do(id)
	}
	ids, err := all()
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		fmt.Fprintln(r.out, "nothing to do")
	}
	for _, id := range ids {
		if err := do(id); err != nil {
			return err
		}
	}
	return nil
}

func (r repairer) repair(id uuid.UUID) error {
	n, err := r.st.Repair(id)
	if err == nil {
		fmt.Fprintf(r.out, "list %s: dropped %d corrupt parts, kept the rest; the other replicas make it whole once the server is back\n", id, n)
	}
	return err
}

func (r repairer) discard(id uuid.UUID) error {
	n, err := r.st.Discard(id)
	if err == nil {
		fmt.Fprintf(r.out, "list %s: dropped whole (%d corrupt parts quarantined); the other replicas give it back once the server is back\n", id, n)
	}
	return err
}

func (r repairer) clear(id uuid.UUID) error {
	n, err := r.st.ClearQuarantine(id)
	if err == nil {
		fmt.Fprintf(r.out, "list %s: deleted %d quarantined values\n", id, n)
	}
	return err
}

// quarantinedLists returns the lists with quarantined values, in key order.
func (r repairer) quarantinedLists() ([]uuid.UUID, error) {
	q, err := r.st.Quarantined()
	if err != nil {
		return nil, err
	}
	var out []uuid.UUID
	for i, e := range q {
		if i == 0 || e.List != q[i-1].List {
			out = append(out, e.List)
		}
	}
	return out, nil
}

// list writes the damaged lists and the quarantined values.
func (r repairer) list() error {
	damaged, err := r.st.Damaged()
	if err != nil {
		return err
	}
	q, err := r.st.Quarantined()
	if err != nil {
		return err
	}
	fmt.Fprintf(r.out, "damaged lists: %d (refused until repaired: --repair LIST|all, or --discard LIST)\n", len(damaged))
	for _, id := range damaged {
		fmt.Fprintf(r.out, "  %s\n", id)
	}
	fmt.Fprintf(r.out, "quarantined values: %d (copies kept for inspection: --clear LIST|all deletes them)\n", len(q))
	if len(q) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(r.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  PART\tQUARANTINED\tBYTES\tREASON")
	for _, e := range q {
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\n", e.Part, e.Time.UTC().Format(time.RFC3339), len(e.Value), e.Reason)
	}
	return tw.Flush()
}
