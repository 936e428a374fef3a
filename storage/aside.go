package storage

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// Setting a corrupt store aside.
//
// A store whose engine files are corrupt (ErrStoreCorrupt: a table, log or
// manifest file fails Pebble's checksums) cannot be opened, and one flipped
// block would keep its server down for good. A storage server holds one of
// N replicas of each of its lists, so it can start over: with
// Options.SetAsideCorrupt, Open moves the engine directory, <dir>/pebble,
// to <dir>.corrupt-<UTC time>/pebble, a directory beside dir, and opens an
// empty store in its place. Everything else in dir stays: the directory
// lock, held throughout, so no other process sees the move half done, and
// whatever the owner keeps there (a server's ID file), so the server keeps
// its identity and the ring places the same lists on it. The other owners
// then refill it (anti-entropy finds its ranges differing). Nothing is
// deleted: the corrupt files wait beside dir for an operator.
//
// The move is one rename, made durable by syncing both directories and
// their parent before the new store is opened: a crash before it leaves the
// corrupt store in place, to be set aside at the next start; a crash after
// it leaves the empty store. A crash between the new directory's creation
// and the rename leaves an empty <dir>.corrupt-<time> behind.

// Aside describes corrupt engine files that Open set aside.
type Aside struct {
	Dir   string // where they are now: <dir>.corrupt-<time>
	Cause error  // why the store could not be opened
}

// Aside returns the corrupt files Open set aside before opening this empty
// store, or nil if it did not.
func (s *Store) Aside() *Aside { return s.aside }

// asideSuffix starts the name Open gives a directory of corrupt files
// beside the store's, then the UTC time and, if that name is taken, a
// counter.
const asideSuffix = ".corrupt-"

// asideTimeFormat is the time in an aside directory's name.
const asideTimeFormat = "20060102T150405Z"

// asideName matches the end of the name of an aside directory.
var asideName = regexp.MustCompile(regexp.QuoteMeta(asideSuffix) + `\d{8}T\d{6}Z(-\d+)?$`)

// IsAside reports whether name, a directory's base name, is one that Open
// gave the corrupt files of a store it set aside: the owner of a data root
// must not take it for a store of its own.
func IsAside(name string) bool { return asideName.MatchString(name) }

// openAside sets the corrupt engine files of dir aside and opens an empty
// store there; cause is why the store could not be opened. The caller holds
// dir's lock.
func openAside(dir string, opts Options, log *slog.Logger, lock *dirLock, cause error) (*Store, error) {
	aside, err := setAside(dir, time.Now())
	if err != nil {
		return nil, fmt.Errorf("storage: setting the corrupt store aside: %w (it could not be opened: %w)", err, cause)
	}
	log.Error("storage: the store's files are corrupt; moved them aside and opened an empty store, which the other replicas refill",
		"dir", dir, "aside", aside, "err", cause)
	s, err := openEngine(dir, opts, log, lock)
	if err != nil {
		return nil, err
	}
	s.aside = &Aside{Dir: aside, Cause: cause}
	return s, nil
}

// setAside moves dir's engine directory into a new directory beside dir,
// named after now, and returns that directory's path once the move is
// durable.
func setAside(dir string, now time.Time) (string, error) {
	dir = filepath.Clean(dir)
	base := dir + asideSuffix + now.UTC().Format(asideTimeFormat)
	aside := base
	for i := 2; ; i++ {
		err := os.Mkdir(aside, 0o755)
		if err == nil {
			break
		}
		if !os.IsExist(err) {
			return "", err
		}
		aside = base + "-" + strconv.Itoa(i)
	}
	if err := os.Rename(filepath.Join(dir, engineDir), filepath.Join(aside, engineDir)); err != nil {
		os.Remove(aside) // empty: nothing was moved
		return "", err
	}
	for _, d := range []string{aside, dir, filepath.Dir(dir)} {
		if err := syncDir(d); err != nil {
			return "", err
		}
	}
	return aside, nil
}

// syncDir makes the entries of directory d durable.
func syncDir(d string) error {
	f, err := os.Open(d)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
