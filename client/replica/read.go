package replica

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// Get returns list id.
func (s *Store) Get(id uuid.UUID) (Entry, error) {
	var e Entry
	err := s.update(func() (bool, error) {
		r, err := s.load(id)
		if err != nil {
			return false, err
		}
		e = r.entry()
		return false, nil
	})
	return e, err
}

// All returns every local list, ordered by name, then ID. A record that
// cannot be decoded is moved to corrupt/ and left out; All then returns
// the other lists together with an error wrapping ErrCorrupt that names it.
func (s *Store) All() ([]Entry, error) {
	var (
		out  []Entry
		errs []error
	)
	err := s.update(func() (bool, error) {
		names, err := os.ReadDir(filepath.Join(s.dir, listsDir))
		if err != nil {
			return false, fmt.Errorf("replica: listing lists: %w", err)
		}
		for _, de := range names {
			id, err := uuid.Parse(de.Name())
			if err != nil || de.Name() != id.String() {
				continue // a temporary file, or something that is not ours
			}
			r, err := s.load(id)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, r.entry())
		}
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Entry) int {
		if c := cmp.Compare(a.List.Name(), b.List.Name()); c != 0 {
			return c
		}
		return cmp.Compare(a.List.ID().String(), b.List.ID().String())
	})
	return out, errors.Join(errs...)
}

// Resolve maps a reference to a local list: its exact name, else its full
// ID or a unique prefix of its ID. A reference that matches no list is
// ErrNotFound; one that matches several is ErrAmbiguous, and the error
// names every candidate as "ID (name)".
func (s *Store) Resolve(ref string) (uuid.UUID, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return uuid.Nil, fmt.Errorf("%w: empty list reference", ErrNotFound)
	}
	all, err := s.All()
	if err != nil && all == nil {
		return uuid.Nil, err
	}
	// Exact names win over ID prefixes, so a list called "cafe" is never
	// ambiguous with a list whose ID happens to start with those letters.
	var hits []Entry
	for _, e := range all {
		if e.List.Name() == ref {
			hits = append(hits, e)
		}
	}
	if len(hits) == 0 {
		lower := strings.ToLower(ref)
		for _, e := range all {
			if strings.HasPrefix(e.List.ID().String(), lower) {
				hits = append(hits, e)
			}
		}
	}
	switch len(hits) {
	case 0:
		return uuid.Nil, fmt.Errorf("%w: %q is not the ID, an ID prefix or the name of a local list", ErrNotFound, ref)
	case 1:
		return hits[0].List.ID(), nil
	}
	names := make([]string, len(hits))
	for i, e := range hits {
		names[i] = fmt.Sprintf("%s (%s)", e.List.ID(), e.List.Name())
	}
	return uuid.Nil, fmt.Errorf("%w: %q matches %d lists: %s", ErrAmbiguous, ref, len(hits), strings.Join(names, ", "))
}
