package store

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/sqldb/sqldbtest"
)

func openNative(t *testing.T, dialect string) *DB {
	t.Helper()
	s, err := Open(context.Background(), sqldbtest.URL(t, dialect, "tportal"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// A read of the hot path made with a context carrying the store's transaction runs in
// that transaction, and so sees its uncommitted writes, on PostgreSQL too, where it
// otherwise goes to pgx on a connection of its own (readRow).
func TestReadRowJoinsTransaction(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, dialect string) {
		s := openNative(t, dialect)
		ctx := context.Background()
		err := s.tx(ctx, func(tx *sql.Tx) error {
			p := catalog.Provider{Name: "Late", Username: "late", PasswordHash: "x", CreatedAt: time.Now()}
			if err := s.in(tx).QueryRowContext(ctx, `INSERT INTO providers (name, username, password_hash, created_at)
				VALUES ($1, $2, $3, $4) RETURNING id`, p.Name, p.Username, p.PasswordHash, millis(p.CreatedAt)).Scan(&p.ID); err != nil {
				return err
			}
			in := s.withTx(ctx, tx)
			if got, err := s.ProviderByUsername(in, "late"); err != nil || got.ID != p.ID {
				t.Errorf("ProviderByUsername in the transaction = %+v, %v; want id %d", got, err, p.ID)
			}
			if got, course, err := s.ProviderWithCourse(in, "late", "none"); err != nil || got.ID != p.ID || course != nil {
				t.Errorf("ProviderWithCourse in the transaction = %+v, %v, %v; want id %d and no course", got, course, err, p.ID)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// On PostgreSQL a read cancelled while the server works closes its pgx connection
// (pgx cannot tell what the server will still send); the pool must drop that
// connection rather than hand it to the next read. With one connection allowed,
// the next reads would fail if it did not.
func TestReadRowAfterCancel(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, dialect string) {
		if dialect != "postgres" {
			t.Skip("the native path is PostgreSQL's")
		}
		s := openNative(t, dialect)
		s.db.SetMaxOpenConns(1)
		ctx := context.Background()
		p := catalog.Provider{Name: "Acme", Username: "acme", PasswordHash: "x", CreatedAt: time.Now()}
		if err := s.CreateProvider(ctx, &p); err != nil {
			t.Fatal(err)
		}
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		var v int
		if err := s.readRow(short, `SELECT 1 FROM pg_sleep(2)`, nil, &v); err == nil {
			t.Fatal("a read cancelled after 50 ms of a 2 s query succeeded")
		}
		for range 3 {
			if got, err := s.ProviderByUsername(ctx, "acme"); err != nil || got.ID != p.ID {
				t.Fatalf("ProviderByUsername after a cancelled read = %+v, %v; want id %d", got, err, p.ID)
			}
			if _, err := s.ProviderByUsername(ctx, "nobody"); !errs.Is(err, errs.NotFound) {
				t.Fatalf("ProviderByUsername(nobody) after a cancelled read = %v; want NotFound", err)
			}
		}
	})
}
