package replica

import "errors"

// Sentinel errors; callers test them with errors.Is.
var (
	// ErrNotFound is a list that is not in the local replica.
	ErrNotFound = errors.New("replica: no such list")
	// ErrAmbiguous is a list reference that matches several local lists;
	// the error's text names the candidates.
	ErrAmbiguous = errors.New("replica: ambiguous list")
	// ErrCorrupt is a list record that cannot be decoded; it has been
	// moved to <dir>/corrupt/.
	ErrCorrupt = errors.New("replica: corrupt list record")
	// ErrPending is a Forget of a list with changes the cluster does not
	// have yet.
	ErrPending = errors.New("replica: list has unpushed changes")
	// ErrClosed is a call on a closed Store.
	ErrClosed = errors.New("replica: store closed")
)
