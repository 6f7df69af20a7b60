// Package gwstore keeps the provider gateway's data, the reference booking system's
// courses, classes and bookings, in SQLite (embedded, the default) or PostgreSQL
// (several gateway instances sharing one database). It implements gateway.Store with
// hand-written SQL that is the same text on both databases, and embeds its own
// migrations per dialect. Its tables are prefixed gw_ and its goose version table is
// gw_goose_db_version, so it can share a database with the portal.
//
// Seat holds never overbook: each change of seats runs in a transaction that locks the
// class row (PostgreSQL: SELECT … FOR UPDATE; SQLite: the write lock taken at BEGIN)
// and the UPDATE is guarded by free_seats > 0 and a CHECK constraint.
package gwstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/tportal/tportal/internal/gateway"
	"github.com/tportal/tportal/internal/sqldb"
)

//go:embed migrations
var migrations embed.FS

// migrationTable is goose's version table for the gateway's own migrations.
const migrationTable = "gw_goose_db_version"

// migrationLockID is the PostgreSQL advisory lock taken while migrating; it differs
// from goose's default (which the portal uses) so the two never wait for each other.
const migrationLockID int64 = 0x6777_7374_6f72 // "gwstor"

// ChangeQueue is told, inside the store's transaction, of every change the portal must
// learn, so that the change and the work to send it commit or roll back together and
// survive a crash (the gwjobs package implements it with River's InsertTx). A nil
// queue is allowed: the change is then only stored. Its methods must write through tx
// and never start a transaction of their own through the store (on SQLite that would
// wait for the transaction it is called from).
type ChangeQueue interface {
	// ClassChanged: a class was added, edited, cancelled or restored, or its free seats
	// moved (a seat held, released or cancelled). c is the class as committed.
	ClassChanged(ctx context.Context, tx *sql.Tx, c gateway.Class) error
	// BookingHeld: the reserve URL held a seat for a new booking, which now waits for the
	// portal's confirmation.
	BookingHeld(ctx context.Context, tx *sql.Tx, b gateway.Booking) error
	// AttendanceRecorded: a booking got an attendance outcome (COMPLETED, NO_SHOW,
	// FAILED), which the portal must be told of.
	AttendanceRecorded(ctx context.Context, tx *sql.Tx, b gateway.Booking) error
}

// CommitWaker is a ChangeQueue that is also told after each transaction commits, so
// that the work the transaction queued starts at once: gwjobs wakes its workers, which
// otherwise only poll (the jobs are not visible to them before the commit).
type CommitWaker interface {
	Committed()
}

type dialect struct {
	name      string
	goose     goose.Dialect
	forUpdate string // row-lock suffix of a SELECT; SQLite locks the database per write transaction instead
}

var (
	sqliteDialect   = dialect{name: "sqlite", goose: goose.DialectSQLite3}
	postgresDialect = dialect{name: "postgres", goose: goose.DialectPostgres, forUpdate: " FOR UPDATE"}
)

// DB is the gateway's store. It implements gateway.Store.
type DB struct {
	db      *sql.DB
	dialect dialect
	queue   ChangeQueue
	stmts   map[string]*sql.Stmt // the hot queries, prepared at Open; read-only after
	// writers serialises this process's write transactions on SQLite, which allows one
	// writer at a time anyway: waiting here is a queue, where waiting in SQLite's busy
	// handler is a sleep of up to 100 ms that made the slowest reserve calls slower
	// still. Other processes on the same file still wait in the busy handler.
	writers sync.Mutex
}

var _ gateway.Store = (*DB)(nil)

// Open connects to the database named by dbURL, `sqlite:PATH` or `postgres://…`, and
// applies pending migrations. PATH's folder is created when missing.
func Open(ctx context.Context, dbURL string) (*DB, error) {
	var (
		db  *sql.DB
		d   dialect
		err error
	)
	switch {
	case strings.HasPrefix(dbURL, "sqlite:"):
		db, err = sqldb.OpenSQLite(strings.TrimPrefix(dbURL, "sqlite:"))
		d = sqliteDialect
	case strings.HasPrefix(dbURL, "postgres://"), strings.HasPrefix(dbURL, "postgresql://"):
		db, err = sql.Open("pgx", dbURL)
		d = postgresDialect
		if err == nil {
			db.SetMaxOpenConns(20)
			db.SetMaxIdleConns(20)
			db.SetConnMaxIdleTime(5 * time.Minute)
		}
	default:
		return nil, fmt.Errorf("gwstore: database URL %q is neither sqlite:PATH nor postgres://…", Redact(dbURL))
	}
	if err != nil {
		return nil, fmt.Errorf("gwstore: open %s: %w", Redact(dbURL), err)
	}
	s := &DB{db: db, dialect: d}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	s.prepare(ctx)
	return s, nil
}

func (s *DB) migrate(ctx context.Context) error {
	dir, err := fs.Sub(migrations, "migrations/"+s.dialect.name)
	if err != nil {
		return fmt.Errorf("gwstore: migrations: %w", err)
	}
	opts := []goose.ProviderOption{goose.WithTableName(migrationTable)}
	if s.dialect.name == "postgres" {
		// Several instances may start at once; one migrates, the others wait.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID))
		if err != nil {
			return fmt.Errorf("gwstore: migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(s.dialect.goose, s.db, dir, opts...)
	if err != nil {
		return fmt.Errorf("gwstore: migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("gwstore: migrate: %w", err)
	}
	for _, r := range results {
		slog.InfoContext(ctx, "applied gateway migration", "dialect", s.dialect.name, "version", r.Source.Version, "file", filepath.Base(r.Source.Path))
	}
	return nil
}

// SetChangeQueue sets the queue told of changes; call it before the store is used.
func (s *DB) SetChangeQueue(q ChangeQueue) { s.queue = q }

// Dialect names the database: "sqlite" or "postgres".
func (s *DB) Dialect() string { return s.dialect.name }

// SQL returns the underlying handle, for the job queue, benchmarks and tests.
func (s *DB) SQL() *sql.DB { return s.db }

// Ping checks that the database answers, for readiness probes.
func (s *DB) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close closes the statements and the connections.
func (s *DB) Close() error {
	s.closeStatements()
	return s.db.Close()
}

// InTx runs fn in a transaction, committing when fn returns nil; for adapters that
// write their own rows beside the store's (the job queue).
func (s *DB) InTx(ctx context.Context, fn func(*sql.Tx) error) error {
	if s.dialect.name == "sqlite" {
		s.writers.Lock()
		defer s.writers.Unlock()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err, "begin transaction")
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return mapErr(err, "commit")
	}
	if w, ok := s.queue.(CommitWaker); ok {
		w.Committed()
	}
	return nil
}

// mapErr turns driver errors into errs codes at the storage boundary (sqldb.MapErr).
func mapErr(err error, what string) error { return sqldb.MapErr(err, "gwstore", what) }

// Redact removes the password from a database URL so it can be logged.
func Redact(dbURL string) string { return sqldb.Redact(dbURL) }

func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// queryer is a *sql.DB or *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// queryAll runs a query and scans every row with scan; what names the query in errors.
func queryAll[T any](ctx context.Context, q queryer, what, query string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr(err, what)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, mapErr(err, what)
		}
		out = append(out, v)
	}
	return out, mapErr(rows.Err(), what)
}
