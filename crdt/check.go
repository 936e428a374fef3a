package crdt

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// What an edit checks of its input before it changes anything: names,
// texts and quantities within the limits (errors.go), and no character
// that would act on a person's terminal.

// checkName trims the name and checks it is non-empty, valid UTF-8, free of
// control characters and at most MaxNameBytes long.
func checkName(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("%w: not valid UTF-8", ErrInvalidName)
	}
	name = TrimName(name)
	if hasControl(name) {
		return "", fmt.Errorf("%w: contains a control character", ErrInvalidName)
	}
	switch {
	case name == "":
		return "", fmt.Errorf("%w: empty", ErrInvalidName)
	case len(name) > MaxNameBytes:
		return "", fmt.Errorf("%w: %d bytes long, at most %d allowed", ErrInvalidName, len(name), MaxNameBytes)
	case len(Normalize(name)) > MaxNameBytes*3:
		return "", fmt.Errorf("%w: normalises to over %d bytes", ErrInvalidName, MaxNameBytes*3)
	}
	return name, nil
}

// hasControl reports whether s holds a control character other than the
// plain space; names reach people's terminals, so escapes are refused.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' })
}

// checkText trims a category or note and checks it is valid UTF-8, free of
// control characters and at most maxLen bytes long; "" is allowed.
func checkText(text string, maxLen int, what string) (string, error) {
	if !utf8.ValidString(text) {
		return "", fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalidName, what)
	}
	text = TrimName(text)
	switch {
	case hasControl(text):
		return "", fmt.Errorf("%w: %s contains a control character", ErrInvalidName, what)
	case len(text) > maxLen:
		return "", fmt.Errorf("%w: %s is %d bytes long, at most %d allowed", ErrInvalidName, what, len(text), maxLen)
	}
	return text, nil
}

func checkQuantity(n int64) error {
	if n < 1 || n > MaxQuantity {
		return fmt.Errorf("%w: %d (must be 1 to %d)", ErrInvalidQuantity, n, MaxQuantity)
	}
	return nil
}
