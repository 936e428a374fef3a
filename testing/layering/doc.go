// Package layering checks the project's import rules: which folder of the
// tree may import which (see docs/ARCHITECTURE.md, "Layout"). It has no
// code of its own; its test reads `go list` and fails on a broken rule.
package layering
