package sqldb_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
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

// The pool's size follows the CPUs, and every connection it opened stays open when
// idle: reopening one re-reads the schema and re-prepares the statements.
func TestOpenSQLitePoolSize(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, tt := range []struct{ procs, want int }{{1, 4}, {2, 4}, {3, 6}, {8, 16}} {
		t.Run(fmt.Sprintf("GOMAXPROCS=%d", tt.procs), func(t *testing.T) {
			runtime.GOMAXPROCS(tt.procs)
			if got := sqldb.SQLitePoolSize(); got != tt.want {
				t.Fatalf("SQLitePoolSize() = %d, want %d", got, tt.want)
			}
			db, err := sqldb.OpenSQLite(filepath.Join(t.TempDir(), "pool.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if got := db.Stats().MaxOpenConnections; got != tt.want {
				t.Fatalf("MaxOpenConnections = %d, want %d", got, tt.want)
			}
			ctx := context.Background()
			var conns []*sql.Conn
			for range tt.want {
				c, err := db.Conn(ctx)
				if err != nil {
					t.Fatal(err)
				}
				conns = append(conns, c)
			}
			for _, c := range conns {
				c.Close()
			}
			if s := db.Stats(); s.OpenConnections != tt.want || s.Idle != tt.want || s.MaxIdleClosed != 0 {
				t.Fatalf("after %d connections were released: %d open, %d idle, %d closed for the idle limit; want all kept",
					tt.want, s.OpenConnections, s.Idle, s.MaxIdleClosed)
			}
		})
	}
}
