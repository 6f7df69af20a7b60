package store

import (
	"context"

	"github.com/jackc/pgx/v5/stdlib"
)

// readRow runs a one-row read of the hot path — the query every course-provider API
// call makes for its credentials and its cache version — and scans it into dest. On
// PostgreSQL, outside a transaction, it goes to pgx's own API on a connection of the
// database/sql pool (sql.Conn.Raw): the same connections and limits, but without
// database/sql's statement, argument and row layers (pgx keeps its own cache of
// prepared statements per connection). Elsewhere it is QueryRowContext.
func (s *DB) readRow(ctx context.Context, query string, args []any, dest ...any) error {
	if s.dialect.name != "postgres" || s.joined(ctx) != nil {
		return s.q().QueryRowContext(ctx, query, args...).Scan(dest...)
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		// pgx.ErrNoRows wraps sql.ErrNoRows, so mapErr sees not-found as before.
		return dc.(*stdlib.Conn).Conn().QueryRow(ctx, query, args...).Scan(dest...)
	})
}
