// Package sqldb holds what both of tportal's stores — the portal's (internal/store)
// and the provider gateway's (internal/gateway/gwstore) — need from database/sql on
// SQLite and PostgreSQL alike: driver errors turned into errs codes at the storage
// boundary, and database URLs made safe to log. It knows no tables of either side.
package sqldb

import (
	"database/sql"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/tportal/tportal/internal/errs"
)

// MapErr turns a driver error into an errs code: unique violations become Conflict,
// no rows NotFound, everything else Internal with the cause kept for the log. An
// error that already carries a code is returned as it is. what names the thing for
// the message; pkg prefixes internal errors ("store", "gwstore").
func MapErr(err error, pkg, what string) error {
	if err == nil {
		return nil
	}
	var e *errs.Error
	if errors.As(err, &e) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return errs.E(errs.NotFound, "%s: not found", what)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return &errs.Error{Code: errs.Conflict, Message: what + ": already exists", Err: err}
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return &errs.Error{Code: errs.Conflict, Message: what + ": already exists", Err: err}
		}
	}
	return errs.Wrap(err, "%s: %s", pkg, what)
}

// Redact removes the password from a database URL so it can be logged.
func Redact(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil || u.User == nil {
		return dbURL
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// SQLitePoolSize is how many connections a SQLite database keeps open, all of them
// kept when idle: two per CPU the Go scheduler uses, and at least four. Every new
// connection re-runs the pragmas, reads the schema and re-prepares each cached
// statement on first use; with database/sql's default of two idle connections a
// burst of eight writers closed and reopened a connection every few requests, which
// cost more than the writes themselves (docs/benchmarks.md). The pure-Go SQLite runs
// on its caller's CPU and takes one writer at a time, so connections beyond a couple
// per CPU add no throughput, only memory: each holds its own schema, prepared
// statements and page cache, and on 2 CPUs four instead of eight took about 2 MiB off
// the peak RSS at 64 clients ("Peak memory at c = 64"). The portal's store keeps one
// of them out of the pool as its writer (its group commits'): the writes ran one at a
// time before as well, each holding one connection, so the readers keep the rest.
func SQLitePoolSize() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// OpenSQLite opens the SQLite database file at path (creating it and its folder if
// missing) the way both stores use it, and checks that it answers.
func OpenSQLite(path string) (*sql.DB, error) { return openSQLite(path, 0) }

// openSQLite is OpenSQLite; walFrames, when not zero, is the connections'
// wal_autocheckpoint (SQLite's default is 1000 frames).
func openSQLite(path string, walFrames int) (*sql.DB, error) {
	if path == "" {
		return nil, errors.New("empty path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	// WAL lets readers run beside the writer; _txlock=immediate takes the write lock
	// when a transaction begins, so read-modify-write transactions serialise instead of
	// failing to upgrade their lock; busy_timeout waits for it rather than erroring.
	// busy_timeout comes first so that the pragmas after it wait for a lock too.
	// temp_store(MEMORY) keeps statement journals in memory: the store's group commit
	// runs each writer under a SAVEPOINT, whose journal otherwise spills to a temporary
	// file after 64 KiB, one pwrite per page (docs/benchmarks.md).
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "temp_store(MEMORY)")
	// cache_size(-1024): a page cache of 1 MiB per connection instead of SQLite's 2 MiB.
	// The pool keeps several connections, the operating system caches the file as well,
	// and at 64 concurrent clients the larger caches made the memory goal's margin
	// (docs/benchmarks.md, "Peak memory at c = 64").
	q.Add("_pragma", "cache_size(-1024)")
	if walFrames != 0 {
		q.Add("_pragma", "wal_autocheckpoint("+strconv.Itoa(walFrames)+")")
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	n := SQLitePoolSize()
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	if err := pingSQLite(db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// pingSQLite opens the first connection, which switches a new file to WAL. Processes
// starting together on one new file each take the write lock for that switch from
// under a read lock, and SQLite answers one of two such upgraders SQLITE_BUSY at once
// rather than let both wait for each other (the busy handler is not called), so the
// first connection is retried for as long as busy_timeout would have waited.
func pingSQLite(db *sql.DB) error {
	deadline := time.Now().Add(10 * time.Second)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err := db.Ping()
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(wait)
	}
}

// isBusy reports whether err is SQLITE_BUSY or one of its extended codes, which share
// its low byte.
func isBusy(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}
