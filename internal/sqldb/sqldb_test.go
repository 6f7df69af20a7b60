package sqldb_test

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/sqldb"
)

func TestMapErr(t *testing.T) {
	coded := errs.E(errs.Forbidden, "not yours")
	tests := []struct {
		name string
		in   error
		code errs.Code
	}{
		{"no rows is not found", sql.ErrNoRows, errs.NotFound},
		{"a coded error keeps its code", coded, errs.Forbidden},
		{"anything else is internal", errors.New("disk on fire"), errs.Internal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := sqldb.MapErr(tc.in, "store", "class")
			if !errs.Is(got, tc.code) {
				t.Fatalf("MapErr(%v) = %v, want code %v", tc.in, got, tc.code)
			}
		})
	}
	if sqldb.MapErr(nil, "store", "class") != nil {
		t.Error("MapErr(nil) is not nil")
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://app:s3cret@db:5432/tportal", "postgres://app:xxxxx@db:5432/tportal"},
		{"postgres://app@db/tportal", "postgres://app@db/tportal"},
		{"sqlite:./data/tportal.db", "sqlite:./data/tportal.db"},
	}
	for _, tc := range tests {
		if got := sqldb.Redact(tc.in); got != tc.want || strings.Contains(got, "s3cret") {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestOpenSQLiteTogether: instances started together open one new database file at
// the same moment. Each switches the file to WAL, which takes the write lock from
// under a read lock; SQLite answers one of two such upgraders SQLITE_BUSY at once,
// without waiting, as both waiting would deadlock (TestSignInSlowDownSharedByInstances
// saw "database is locked" from a starting serve). OpenSQLite must still open.
func TestOpenSQLiteTogether(t *testing.T) {
	for round := range 30 {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("together-%d.db", round))
		var wg sync.WaitGroup
		errc := make(chan error, 4)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				db, err := sqldb.OpenSQLite(path)
				if err == nil {
					_, err = db.Exec(`CREATE TABLE IF NOT EXISTS t (x INTEGER)`)
					db.Close()
				}
				errc <- err
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatalf("round %d: OpenSQLite by one of 4 openers at once: %v", round, err)
			}
		}
	}
}
