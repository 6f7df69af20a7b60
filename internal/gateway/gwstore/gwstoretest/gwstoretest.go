// Package gwstoretest opens real gateway databases for tests: a fresh SQLite file, and,
// when TPORTAL_TEST_POSTGRES holds a PostgreSQL server URL (the same variable the
// portal's tests read), a fresh PostgreSQL database created for the test and dropped
// after it. It is the gateway's own, so the gateway's tests need none of the portal's
// packages. Both build on internal/sqldb/sqldbtest, which knows no tables.
package gwstoretest

import (
	"context"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/gateway"
	"github.com/tportal/tportal/internal/gateway/gwstore"
	"github.com/tportal/tportal/internal/sqldb/sqldbtest"
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
	return sqldbtest.URL(tb, dialect, "tportal_gw")
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
