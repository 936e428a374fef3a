package proxy

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"shoplist/crdt"
)

// mergeAnswers returns the merge of the replicas' states of a list, or nil
// if none has it. Encodings are canonical, so when every replica that has
// the list sent the same bytes those bytes are the merge, and nothing is
// decoded; only diverged replicas cost a decode, a merge and an encode. A
// state that does not decode (a broken or hostile server) is left out and
// reported in the error, which does not stop the others from merging; when
// no state decodes at all the result is nil and the error wraps
// errUndecodable, so that garbage is never passed off as an empty list.
func mergeAnswers(list uuid.UUID, answers []answer) ([]byte, error) {
	var first []byte
	same := true
	for _, a := range answers {
		switch {
		case a.body == nil:
		case first == nil:
			first = a.body
		case !bytes.Equal(a.body, first):
			same = false
		}
	}
	if same {
		return first, nil
	}
	acc := crdt.Empty(list)
	var errs []error
	merged := 0
	for _, a := range answers {
		if a.body == nil {
			continue
		}
		l, err := crdt.Decode(a.body)
		if err == nil {
			err = acc.Merge(l)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("replica %s: %w", a.server, err))
			continue
		}
		merged++
	}
	if merged == 0 {
		return nil, fmt.Errorf("%w: %w", errUndecodable, errors.Join(errs...))
	}
	return acc.Encode(), errors.Join(errs...)
}

// errUndecodable means no replica's state of a list could be read.
var errUndecodable = errors.New("no replica sent a readable state")

// equalBytes compares two states, nil being "no state".
func equalBytes(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }
