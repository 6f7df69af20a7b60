package store

import (
	"time"

	"github.com/alexedwards/scs/postgresstore"
	"github.com/alexedwards/scs/sqlite3store"
	"github.com/alexedwards/scs/v2"
)

// SessionStore is where the web pages' sessions live: the sessions table of this
// database, read and written by the session library's own store for the dialect.
// Expired sessions are deleted every cleanup interval (0: never); stop ends that.
func (s *DB) SessionStore(cleanup time.Duration) (store scs.Store, stop func()) {
	if s.dialect.name == "postgres" {
		ps := postgresstore.NewWithCleanupInterval(s.db, cleanup)
		return ps, stopper(cleanup, ps.StopCleanup)
	}
	ls := sqlite3store.NewWithCleanupInterval(s.db, cleanup)
	return ls, stopper(cleanup, ls.StopCleanup)
}

// stopper returns stop, or a no-op when no cleanup goroutine runs (stopping one that
// never started would block).
func stopper(cleanup time.Duration, stop func()) func() {
	if cleanup <= 0 {
		return func() {}
	}
	return stop
}
