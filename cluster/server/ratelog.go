package server

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// logEvery is how often one kind of repeated problem is logged.
const logEvery = 10 * time.Second

// rateLog logs problems that a peer can repeat at will (bad frames, refused
// lists, failed sends) at most once per logEvery per kind, and says how many
// it held back in between, so a hostile or broken peer cannot flood the log.
// Kinds must come from a small fixed set (never from peer input), so the maps
// stay small.
type rateLog struct {
	log *slog.Logger
	now func() time.Time

	// mu guards last and held: the loop and every worker log through it.
	mu   sync.Mutex
	last map[string]time.Time // when each kind was last logged
	held map[string]int       // occurrences of each kind not logged since
}

// newRateLog returns a rateLog writing to log.
func newRateLog(log *slog.Logger) *rateLog {
	return &rateLog{log: log, now: time.Now, last: map[string]time.Time{}, held: map[string]int{}}
}

// warn logs msg at Warn level under kind, unless kind was logged less than
// logEvery ago.
func (r *rateLog) warn(kind, msg string, args ...any) { r.logAt(slog.LevelWarn, kind, msg, args...) }

// error is warn at Error level.
func (r *rateLog) error(kind, msg string, args ...any) { r.logAt(slog.LevelError, kind, msg, args...) }

// logAt logs at level unless kind was logged less than logEvery ago.
func (r *rateLog) logAt(level slog.Level, kind, msg string, args ...any) {
	now := r.now()
	r.mu.Lock()
	if t, ok := r.last[kind]; ok && now.Sub(t) < logEvery {
		r.held[kind]++
		r.mu.Unlock()
		return
	}
	held := r.held[kind]
	r.last[kind], r.held[kind] = now, 0
	r.mu.Unlock()
	if held > 0 {
		args = append(args, "similar_not_logged", held)
	}
	r.log.Log(context.Background(), level, msg, args...)
}
