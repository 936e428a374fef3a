package protocol

import (
	"fmt"

	"github.com/google/uuid"
)

// CheckListID reports, as ErrInvalidID, whether id is not a valid list ID:
// list IDs are random (version 4, RFC 4122 variant) UUIDs, so the nil UUID
// and every other version are refused.
func CheckListID(id uuid.UUID) error {
	if why := listIDProblem(id); why != "" {
		return fmt.Errorf("%w: list ID %s", ErrInvalidID, why)
	}
	return nil
}

func listIDProblem(id uuid.UUID) string {
	switch {
	case id == uuid.Nil:
		return "is the nil UUID"
	case id.Version() != 4 || id.Variant() != uuid.RFC4122:
		return fmt.Sprintf("%s is not a version 4 UUID", id)
	}
	return ""
}

// CheckServerID reports whether s is not a valid server ID: 1 to
// MaxServerIDLen bytes of ASCII letters, digits, '.', '_' and '-', starting
// with a letter or digit. Over-long IDs are ErrTooLarge, others ErrInvalidID.
func CheckServerID(s string) error {
	if len(s) > MaxServerIDLen {
		return fmt.Errorf("%w: server ID is %d bytes, at most %d allowed", ErrTooLarge, len(s), MaxServerIDLen)
	}
	if s == "" {
		return fmt.Errorf("%w: empty server ID", ErrInvalidID)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '_' && c != '-') {
			return fmt.Errorf("%w: server ID %q: byte %d (%q) not allowed", ErrInvalidID, s, i, c)
		}
	}
	return nil
}

// checkEndpoint reports whether s is not a plausible ZeroMQ endpoint: 1 to
// MaxEndpointLen bytes of printable ASCII without spaces, with a
// "transport://" prefix.
func checkEndpoint(what, s string) error {
	if len(s) > MaxEndpointLen {
		return fmt.Errorf("%w: %s is %d bytes, at most %d allowed", ErrTooLarge, what, len(s), MaxEndpointLen)
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return fmt.Errorf("%w: %s %q: byte %d is not printable ASCII", ErrMalformed, what, s, i)
		}
	}
	scheme := 0
	for scheme < len(s) && ('a' <= s[scheme] && s[scheme] <= 'z') {
		scheme++
	}
	if scheme == 0 || len(s) < scheme+4 || s[scheme:scheme+3] != "://" {
		return fmt.Errorf("%w: %s %q is not transport://address", ErrMalformed, what, s)
	}
	return nil
}
