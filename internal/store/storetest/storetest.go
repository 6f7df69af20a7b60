// Package storetest opens real databases for tests: a fresh SQLite file, and, when
// TPORTAL_TEST_POSTGRES holds a PostgreSQL URL, a fresh PostgreSQL database that is
// created for the test and dropped after it.
package storetest

import (
	"context"
	"testing"

	"github.com/tportal/tportal/internal/sqldb/sqldbtest"
	"github.com/tportal/tportal/internal/store"
)

// EnvPostgres names the variable holding the PostgreSQL server URL for tests.
const EnvPostgres = sqldbtest.EnvPostgres

// Dialects returns the databases to run a suite or benchmark against: "sqlite"
// always, "postgres" when EnvPostgres is set.
func Dialects() []string { return sqldbtest.Dialects() }

// ForEach runs fn as a subtest once per dialect, and reports a skipped PostgreSQL
// subtest with a clear message when EnvPostgres is unset.
func ForEach(t *testing.T, fn func(t *testing.T, dialect string)) {
	t.Helper()
	sqldbtest.ForEach(t, fn)
}

// URL returns the URL of a fresh, empty database of the dialect, removed after the test.
func URL(tb testing.TB, dialect string) string {
	tb.Helper()
	return sqldbtest.URL(tb, dialect, "tportal")
}

// Open opens (and migrates) a fresh database of the dialect.
func Open(tb testing.TB, dialect string) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), URL(tb, dialect))
	if err != nil {
		tb.Fatalf("open %s store: %v", dialect, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}
