// Package gwstoretest opens real gateway databases for tests: a fresh SQLite file, and,
// when TPORTAL_TEST_POSTGRES holds a PostgreSQL server URL (the same variable the
// portal's tests read), a fresh PostgreSQL database created for the test and dropped
// after it. It is the gateway's own, so the gateway's tests need none of the portal's
// packages.
package gwstoretest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/gateway"
	"github.com/tportal/tportal/internal/gateway/gwstore"
)

// Now is a clock for tests: before every deadline of the class ClassFields describes.
var Now = time.Date(2027, 4, 20, 12, 0, 0, 0, time.UTC)

// ClassFields returns a valid class of the given seats: Oslo, 2027-05-10 09:00 to
// 2027-05-11 15:30 (Europe/Oslo), enrollment until 2027-05-01, cancellation until
// 2027-05-05, 12500.00 NOK.
func ClassFields(seats int) gateway.ClassFields {
	s := func(v string) *string { return &v }
	return gateway.ClassFields{
		Location: s("Oslo"), Seats: &seats,
		Start: s("2027-05-10T09:00"), End: s("2027-05-11T15:30"), TimeZone: s("Europe/Oslo"),
		EnrollmentDeadline: s("2027-05-01"), CancellationDeadline: s("2027-05-05"),
		Amount: s("12500.00"), Currency: s("NOK"),
		AddressLine1: s("Karl Johans gate 1"), City: s("Oslo"), ZipCode: s("0154"), Country: s("NO"),
	}
}

// Quiet the default logger (migrations log through it) unless TPORTAL_TEST_LOG is set.
func init() {
	if os.Getenv("TPORTAL_TEST_LOG") == "" {
		slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
}

// EnvPostgres names the variable holding the PostgreSQL server URL for tests.
const EnvPostgres = "TPORTAL_TEST_POSTGRES"

// Dialects returns the databases to run a benchmark against: "sqlite" always,
// "postgres" when EnvPostgres is set.
func Dialects() []string {
	if os.Getenv(EnvPostgres) != "" {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}

// ForEach runs fn as a subtest once per dialect; the PostgreSQL subtest is skipped,
// saying how to run it, when EnvPostgres is unset.
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

// URL returns the URL of a fresh, empty database of the dialect, removed after the test.
func URL(tb testing.TB, dialect string) string {
	tb.Helper()
	switch dialect {
	case "sqlite":
		return "sqlite:" + filepath.Join(tb.TempDir(), "gateway.db")
	case "postgres":
		return freshPostgres(tb)
	}
	tb.Fatalf("unknown dialect %q", dialect)
	return ""
}

// Open opens (and migrates) a fresh gateway database of the dialect.
func Open(tb testing.TB, dialect string) *gwstore.DB {
	tb.Helper()
	db, err := gwstore.Open(context.Background(), URL(tb, dialect))
	if err != nil {
		tb.Fatalf("open %s gateway store: %v", dialect, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func freshPostgres(tb testing.TB) string {
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
	name := "tportal_gw_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		tb.Fatalf("create test database on %s: %v", gwstore.Redact(server), err)
	}
	tb.Cleanup(func() {
		admin, err := sql.Open("pgx", server) // the first is closed by now
		if err != nil {
			return
		}
		defer admin.Close()
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
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
