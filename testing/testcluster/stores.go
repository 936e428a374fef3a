package testcluster

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/google/uuid"

	"shoplist/crdt"
	"shoplist/hashring"
	"shoplist/storage"
	"shoplist/testing/ledger"
)

// serverIDFile is where a server keeps its ID in its data directory.
const serverIDFile = "server-id"

// StoredServer is what a stopped server's data directory holds.
type StoredServer struct {
	ID    string
	Dir   string
	Lists map[uuid.UUID][]byte // every stored list's canonical encoding
	Hints int                  // hint records not delivered yet
}

// ReadStore opens the data directory of a stopped server and reads every
// list stored there. It fails if a server still has the directory open.
func ReadStore(dir string) (StoredServer, error) {
	raw, err := os.ReadFile(filepath.Join(dir, serverIDFile))
	if err != nil {
		return StoredServer{}, fmt.Errorf("testcluster: reading the server ID in %s: %w", dir, err)
	}
	st, err := storage.Open(dir, storage.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return StoredServer{}, fmt.Errorf("testcluster: opening the store in %s: %w", dir, err)
	}
	defer st.Close()
	s := StoredServer{ID: strings.TrimSpace(string(raw)), Dir: dir, Lists: map[uuid.UUID][]byte{}, Hints: st.HintCount()}
	ids, err := st.IDs()
	if err != nil {
		return s, fmt.Errorf("testcluster: listing the store in %s: %w", dir, err)
	}
	for _, id := range ids {
		enc, err := st.LoadEncoded(id)
		if err != nil {
			return s, fmt.Errorf("testcluster: loading list %s in %s: %w", id, dir, err)
		}
		s.Lists[id] = enc
	}
	return s, nil
}

// ReplicaReport is the outcome of CheckReplicas.
type ReplicaReport struct {
	Lists    int // lists checked
	Replicas int // owner copies checked (lists × N)
	// Missing counts owner copies absent; Divergent the lists whose owner
	// copies are not byte-identical; Lost the parts (a list's name, an
	// item) of owner copies that lack something acknowledged, and Phantom
	// those holding something no writer attempted, summed over the copies
	// (ledger.Ledger.Check); Stray the copies on servers that do not own
	// the list.
	Missing, Divergent int
	Lost, Phantom      int
	Stray              int
	// Problems describes the first few failures found.
	Problems []string
}

// OK reports whether every owner has an identical copy holding every
// acknowledged edit and nothing else.
func (r ReplicaReport) OK() bool {
	return r.Missing == 0 && r.Divergent == 0 && r.Lost == 0 && r.Phantom == 0
}

func (r *ReplicaReport) problem(format string, args ...any) {
	if len(r.Problems) < 20 {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	}
}

// String sums the report up on one line.
func (r ReplicaReport) String() string {
	return fmt.Sprintf("%d lists, %d owner copies: %d missing, %d lists divergent, %d parts lost, %d invented, %d stray copies on non-owners",
		r.Lists, r.Replicas, r.Missing, r.Divergent, r.Lost, r.Phantom, r.Stray)
}

// CheckReplicas checks every list of the ledger acked against the stores:
// each of its n owners on ring must hold it, every owner copy must be
// byte-identical and pass the ledger's check (everything acknowledged,
// nothing beyond what was attempted); the problems name the list and part
// of each loss or invention, and the writers whose acknowledged edit is
// missing.
func CheckReplicas(stores []StoredServer, ring *hashring.Ring, n int, acked *ledger.Ledger) ReplicaReport {
	byID := map[string]StoredServer{}
	for _, s := range stores {
		byID[s.ID] = s
	}
	var r ReplicaReport
	for _, id := range acked.Lists() {
		r.Lists++
		owners := ring.Owners(id.String(), n)
		var first []byte
		firstOwner, diverged := "", false
		for _, o := range owners {
			r.Replicas++
			enc, ok := byID[o].Lists[id]
			if !ok {
				r.Missing++
				r.problem("list %s: owner %s has no copy", id, o)
				continue
			}
			l, err := crdt.Decode(enc)
			if err != nil {
				r.Missing++
				r.problem("list %s: owner %s's copy does not decode: %v", id, o, err)
				continue
			}
			v := acked.Check(id, l)
			r.Lost += v.Lost
			r.Phantom += v.Invented
			if !v.OK() {
				r.problem("list %s: owner %s's copy: %d parts lost, %d invented", id, o, v.Lost, v.Invented)
				for _, f := range v.Failures {
					r.problem("%s (owner %s's copy)", f, o)
				}
			}
			switch {
			case first == nil:
				first, firstOwner = enc, o
			case !bytes.Equal(first, enc):
				diverged = true
				r.problem("list %s: copies of %s and %s differ", id, firstOwner, o)
			}
		}
		if diverged {
			r.Divergent++
		}
		for _, s := range stores {
			if _, ok := s.Lists[id]; ok && !slices.Contains(owners, s.ID) {
				r.Stray++
			}
		}
	}
	sort.Strings(r.Problems)
	return r
}
