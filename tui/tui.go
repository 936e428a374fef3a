package tui

import (
	"context"
	"errors"
	"fmt"
	"os"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/google/uuid"

	"shoplist/client/replica"
	"shoplist/client/syncer"
)

// Engine is what the UI needs of the background sync engine; *syncer.Engine
// implements it, and tests use a fake.
type Engine interface {
	// Status returns the current connection and sync state.
	Status() syncer.Status
	// Events delivers changes: the UI reloads what is on screen when a list
	// changes and refreshes the status bar when the status does.
	Events() <-chan syncer.Event
	// Kick asks for the given lists to be pushed now, after a local edit.
	Kick(ids ...uuid.UUID)
	// Join fetches a shared list from the cluster and stores it locally.
	Join(ctx context.Context, id uuid.UUID) error
}

// The engine the command line starts is an Engine.
var _ Engine = (*syncer.Engine)(nil)

// Options configures the UI.
type Options struct {
	Proxy   string // proxy address(es) shown in the status bar
	Offline bool   // the engine never touches the network (--offline)
	NoProxy bool   // Offline because no proxy is known yet: the bar says how to give one
	// SaveName keeps the display name the user signs edits with where the
	// command line keeps it, and returns it as kept; nil: the name cannot
	// be set here.
	SaveName func(name string) (string, error)
}

// New returns the root model of the UI over store and eng. It does all its
// I/O in commands, so it can be driven by any tea.Program (Run, or a test).
// A nil eng is treated as an engine that is always offline.
func New(store *replica.Store, eng Engine, opts Options) tea.Model {
	return newModel(store, eng, opts)
}

// Run shows the UI on the terminal (alternate screen) until the user quits
// or ctx ends; either way it returns nil unless the terminal failed.
func Run(ctx context.Context, store *replica.Store, eng Engine, opts Options) error {
	m := newModel(store, eng, opts)
	m.sh.tmux = os.Getenv("TMUX") != ""
	defer m.stop()
	p := tea.NewProgram(m, tea.WithAltScreen(), tea.WithContext(ctx))
	_, err := p.Run()
	if err != nil && errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return fmt.Errorf("tui: %w", err)
	}
	return nil
}

// offlineEngine stands in for a missing engine: always offline, no events.
type offlineEngine struct{}

func (offlineEngine) Status() syncer.Status       { return syncer.Status{Conn: syncer.Offline} }
func (offlineEngine) Events() <-chan syncer.Event { return nil }
func (offlineEngine) Kick(...uuid.UUID)           {}
func (offlineEngine) Join(context.Context, uuid.UUID) error {
	return syncer.ErrOffline
}
