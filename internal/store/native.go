package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// readRow runs a one-row read of the hot path — the query every course-provider API
// call makes for its credentials and its cache version, and the token and class reads
// of every booking (row) — and scans it into dest. On
// PostgreSQL, outside a transaction, it goes to pgx's own API on a connection of the
// database/sql pool (sql.Conn.Raw): the same connections and limits, but without
// database/sql's statement, argument and row layers (pgx keeps its own cache of
// prepared statements per connection). Elsewhere it is QueryRowContext.
func (s *DB) readRow(ctx context.Context, query string, args []any, dest ...any) error {
	if s.dialect.name != "postgres" || s.joined(ctx) != nil {
		return s.q().QueryRowContext(ctx, query, args...).Scan(dest...)
	}
	return s.onPGConn(ctx, func(c *pgx.Conn) error {
		// pgx.ErrNoRows wraps sql.ErrNoRows, so mapErr sees not-found as before.
		return c.QueryRow(ctx, query, args...).Scan(dest...)
	})
}

// nativeRow is a one-row read that readRow runs when it is scanned, for the scan
// functions that take a scanner (scanClass, scanToken).
type nativeRow struct {
	s     *DB
	ctx   context.Context
	query string
	args  []any
}

// Scan implements scanner.
func (r nativeRow) Scan(dest ...any) error { return r.s.readRow(r.ctx, r.query, r.args, dest...) }

// row is QueryRowContext through readRow, for the other reads every booking makes.
func (s *DB) row(ctx context.Context, query string, args ...any) scanner {
	return nativeRow{s: s, ctx: ctx, query: query, args: args}
}

// readRows is readRow for a read of several rows, on PostgreSQL outside a
// transaction only: each calls each with the rows positioned on it.
func (s *DB) readRows(ctx context.Context, query string, args []any, each func(pgx.Rows) error) error {
	return s.onPGConn(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := each(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}
