// Package sqldbtest gives tests real, fresh databases of either dialect, knowing no
// tables: a SQLite file in the test's temporary directory, and, when
// TPORTAL_TEST_POSTGRES holds a PostgreSQL server URL, a PostgreSQL database created
// for the test and dropped after it. The portal's storetest and the gateway's
// gwstoretest build on it, each opening its own store.
package sqldbtest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver for creating test databases

	"github.com/tportal/tportal/internal/sqldb"
)

// Quiet the default logger (migrations log through it) so that test and benchmark
// output stays readable; TPORTAL_TEST_LOG=1 keeps it.
func init() {
	if os.Getenv("TPORTAL_TEST_LOG") == "" {
		slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
}

// EnvPostgres names the variable holding the PostgreSQL server URL for tests.
const EnvPostgres = "TPORTAL_TEST_POSTGRES"

// Dialects returns the databases to run a suite or benchmark against: "sqlite"
// always, "postgres" when EnvPostgres is set.
func Dialects() []string {
	if os.Getenv(EnvPostgres) != "" {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}

// ForEach runs fn as a subtest once per dialect, and reports a skipped PostgreSQL
// subtest with a clear message when EnvPostgres is unset.
func ForEach(t *testing.T, fn func(t *testing.T, dialect string)) {
	t.Helper()
	for _, d := range []string{"sqlite", "postgres"} {
		t.Run(d, func(t *testing.T) {
			if d == "postgres" && os.Getenv(EnvPostgres) == "" {
				t.Skip("PostgreSQL suite skipped: set " + EnvPostgres + "=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable to run it")
			}
			fn(t, d)
		})
	}
}

// URL returns the URL of a fresh, empty database of the dialect, removed after the
// test. name names the SQLite file and prefixes the PostgreSQL database's name, so a
// leftover database says whose it was.
func URL(tb testing.TB, dialect, name string) string {
	tb.Helper()
	switch dialect {
	case "sqlite":
		return "sqlite:" + filepath.Join(tb.TempDir(), name+".db")
	case "postgres":
		return freshPostgres(tb, name)
	}
	tb.Fatalf("unknown dialect %q", dialect)
	return ""
}

func freshPostgres(tb testing.TB, prefix string) string {
	tb.Helper()
	server := os.Getenv(EnvPostgres)
	if server == "" {
		tb.Skip("PostgreSQL test skipped: " + EnvPostgres + " is not set")
	}
	admin, err := sql.Open("pgx", server)
	if err != nil {
		tb.Fatalf("%s: %v", EnvPostgres, err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := prefix + "_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		tb.Fatalf("create test database on %s: %v", sqldb.Redact(server), err)
	}
	tb.Cleanup(func() {
		a, err := sql.Open("pgx", server) // the first is closed by now
		if err != nil {
			return
		}
		defer a.Close()
		if _, err := a.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			tb.Logf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		tb.Fatalf("%s: %v", EnvPostgres, err)
	}
	u.Path = "/" + name
	return u.String()
}
