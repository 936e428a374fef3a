// Package tui is the terminal user interface of the shoplist client, built
// on Bubble Tea; it arrives with the local-first client issue.
package tui
