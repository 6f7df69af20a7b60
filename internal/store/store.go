// Package store keeps tportal's data in SQLite (embedded, the default) or PostgreSQL
// (several portal instances sharing one database). The SQL is written once where the
// dialects agree; the few places where they differ go through the dialect type. Each
// dialect has its own versioned migrations, embedded and applied at Open.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/tportal/tportal/internal/auth"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/sqldb"
)

//go:embed migrations
var migrations embed.FS

// dialect holds what differs between the databases.
type dialect struct {
	name      string
	goose     goose.Dialect
	forUpdate string // row-lock suffix of a SELECT; SQLite locks the database per write transaction instead
}

var (
	sqliteDialect   = dialect{name: "sqlite", goose: goose.DialectSQLite3, forUpdate: ""}
	postgresDialect = dialect{name: "postgres", goose: goose.DialectPostgres, forUpdate: " FOR UPDATE"}
)

// DB is tportal's storage. It implements the store interfaces of the domain packages.
type DB struct {
	db      *sql.DB
	dialect dialect
	stmts   sync.Map // query text -> *sql.Stmt; see querier
	created bool     // Open found no tportal schema and made it
	path    string   // SQLite: the database file
	// mailQueue schedules the delivery of new outbox messages (outbox.go).
	mailQueue MailQueue
	// group queues this process's write transactions on SQLite into shared ones
	// (groupcommit.go).
	group groupCommit
	// checkpoints runs SQLite's WAL checkpoints off the writers' path, told of
	// each group's commit; nil on PostgreSQL.
	checkpoints *sqldb.Checkpointer
	// seats shares PostgreSQL's seat statements among this process's concurrent
	// bookings of a class (seatbatch.go).
	seats seatBatches
	// providerReads, tokenReads and classReads share PostgreSQL's provider reads
	// among this process's concurrent API calls (providerbatch.go), and its token
	// and class reads among its concurrent bookings (readbatch.go).
	providerReads sharedReads[providerKey, providerResult]
	tokenReads    sharedReads[string, auth.Token]
	classReads    sharedReads[int64, classToBook]
	// pgBatches shares PostgreSQL commits among this process's concurrent
	// one-statement writes (pgbatch.go).
	pgBatches pgBatches
	// classes remembers classes as last read or written, for ModifyClass
	// (classmemo.go).
	classes classMemo
}

// Open connects to the database named by dbURL, `sqlite:PATH` or `postgres://…`, and
// applies pending migrations. A missing SQLite file (and its folder) is created;
// Created tells whether it was.
func Open(ctx context.Context, dbURL string) (*DB, error) { return open(ctx, dbURL, true) }

// OpenExisting is Open for commands that only read or change what exists: a SQLite
// file that does not exist, or a PostgreSQL database without tportal's tables, is an
// errs.NotFound "no database at …" error, and nothing is created. An existing
// database is still brought up to date.
func OpenExisting(ctx context.Context, dbURL string) (*DB, error) { return open(ctx, dbURL, false) }

func open(ctx context.Context, dbURL string, create bool) (*DB, error) {
	var (
		db          *sql.DB
		checkpoints *sqldb.Checkpointer
		d           dialect
		err         error
	)
	switch {
	case strings.HasPrefix(dbURL, "sqlite:"):
		path := strings.TrimPrefix(dbURL, "sqlite:")
		if !create {
			if _, statErr := os.Stat(path); errors.Is(statErr, fs.ErrNotExist) || path == "" {
				return nil, errs.E(errs.NotFound, "no database at %s", path)
			}
		}
		db, checkpoints, err = sqldb.OpenSQLiteCheckpointed(path)
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
		return nil, fmt.Errorf("store: database URL %q is neither sqlite:PATH nor postgres://…", Redact(dbURL))
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", Redact(dbURL), err)
	}
	s := &DB{db: db, dialect: d, path: strings.TrimPrefix(dbURL, "sqlite:"), checkpoints: checkpoints}
	if !create && d.name == "postgres" {
		if err := s.checkSchema(ctx, dbURL); err != nil {
			db.Close()
			return nil, err
		}
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// checkSchema tells a PostgreSQL database that holds tportal's tables (goose's version
// table is the mark) from an empty one.
func (s *DB) checkSchema(ctx context.Context, dbURL string) error {
	var table sql.NullString
	if err := s.db.QueryRowContext(ctx, `SELECT to_regclass('goose_db_version')::text`).Scan(&table); err != nil {
		return fmt.Errorf("store: open %s: %w", Redact(dbURL), err)
	}
	if !table.Valid {
		return errs.E(errs.NotFound, "no database at %s (it has no tportal tables)", Redact(dbURL))
	}
	return nil
}

// migrationLocker is the PostgreSQL side of the migration lock: a session advisory
// lock, probed every second for up to ten minutes.
func migrationLocker() (lock.SessionLocker, error) {
	return lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 600))
}

// WithMigrationLock runs fn while holding the cross-process migration lock, the one
// the portal's own migrations run under: a PostgreSQL advisory lock, or on SQLite an
// OS file lock on PATH.migrate-lock beside the database file. Instances that start
// together take turns instead of racing to create the same tables and types; the
// job library's migrations run under it too.
func (s *DB) WithMigrationLock(ctx context.Context, fn func(context.Context) error) error {
	if s.dialect.name == "sqlite" {
		fl := flock.New(s.path + ".migrate-lock")
		if _, err := fl.TryLockContext(ctx, 50*time.Millisecond); err != nil {
			return fmt.Errorf("store: migration lock %s: %w", fl.Path(), err)
		}
		defer fl.Unlock() //nolint:errcheck // closing the file releases the lock anyway
		return fn(ctx)
	}
	locker, err := migrationLocker()
	if err != nil {
		return fmt.Errorf("store: migration lock: %w", err)
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: migration lock: %w", err)
	}
	defer conn.Close()
	if err := locker.SessionLock(ctx, conn); err != nil {
		return fmt.Errorf("store: migration lock: %w", err)
	}
	defer func() {
		if err := locker.SessionUnlock(context.WithoutCancel(ctx), conn); err != nil {
			slog.WarnContext(ctx, "releasing the migration lock", "err", err)
		}
	}()
	return fn(ctx)
}

// Created reports whether Open made the database's tables (a fresh database).
func (s *DB) Created() bool { return s.created }

func (s *DB) migrate(ctx context.Context) error {
	dir, err := fs.Sub(migrations, "migrations/"+s.dialect.name)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	p, err := goose.NewProvider(s.dialect.goose, s.db, dir)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	// Several instances may start at once; one migrates, the others wait and then
	// find nothing to do.
	var results []*goose.MigrationResult
	err = s.WithMigrationLock(ctx, func(ctx context.Context) error {
		results, err = p.Up(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	s.created = len(results) > 0 && results[0].Source.Version == 1
	for _, r := range results {
		slog.InfoContext(ctx, "applied migration", "dialect", s.dialect.name, "version", r.Source.Version, "file", filepath.Base(r.Source.Path))
	}
	return nil
}

// Dialect names the database: "sqlite" or "postgres".
func (s *DB) Dialect() string { return s.dialect.name }

// Close closes the statements and the connections. On SQLite it first waits for the
// group transaction being filled, if any, and releases the writer connection
// (groupcommit.go); the last checkpoint then covers every write.
func (s *DB) Close() error {
	var werr error
	if s.dialect.name == "sqlite" {
		werr = s.closeWriter()
	}
	if s.checkpoints != nil {
		s.checkpoints.Close()
	}
	s.closeStatements()
	return errors.Join(s.db.Close(), werr)
}

// Ping checks that the database answers, for readiness probes.
func (s *DB) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// SQL returns the underlying handle, for benchmarks and tests.
func (s *DB) SQL() *sql.DB { return s.db }

// tx runs fn in a transaction, committing when fn returns nil. On SQLite the
// transaction may be shared with other writers' (groupTx); either way tx returns nil
// only once fn's writes are committed.
func (s *DB) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	if s.dialect.name == "sqlite" {
		return s.groupTx(ctx, fn)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err, "begin transaction")
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	if err := fn(tx); err != nil {
		return err
	}
	return mapErr(tx.Commit(), "commit")
}

// mapErr turns driver errors into errs codes at the storage boundary (sqldb.MapErr).
func mapErr(err error, what string) error { return sqldb.MapErr(err, "store", what) }

// Redact removes the password from a database URL so it can be logged.
func Redact(dbURL string) string { return sqldb.Redact(dbURL) }

func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func nullMillis(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

func timePtr(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromMillis(n.Int64)
	return &t
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// queryAll runs a query and scans every row with scan; what names the query in errors.
func queryAll[T any](ctx context.Context, s *DB, what, q string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := s.q().QueryContext(ctx, q, args...)
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
