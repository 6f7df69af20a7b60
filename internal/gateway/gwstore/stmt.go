package gwstore

import (
	"context"
	"database/sql"
)

// The store's hot queries are prepared once at Open: parsing a statement anew on every
// call was a fifth of a reserve call's CPU on SQLite. Inside a transaction a prepared
// statement is bound to the transaction's own connection (Tx.StmtContext), so a
// transaction never waits for a second connection from the pool.

// hotQueries returns the query texts to prepare, for the dialect.
func hotQueries(d dialect) []string {
	return []string{
		qClassByKey, qClassByKey + d.forUpdate,
		qBookingByPortalRef, qBookingByID, qBookingByID + lockOf(d, "b"),
		qTakeSeat, qGiveSeat, qInsertBooking, qUpdateBooking,
	}
}

// prepare prepares the hot queries; one that fails to prepare runs unprepared.
func (s *DB) prepare(ctx context.Context) {
	s.stmts = map[string]*sql.Stmt{}
	for _, q := range hotQueries(s.dialect) {
		if st, err := s.db.PrepareContext(ctx, q); err == nil {
			s.stmts[q] = st
		}
	}
}

func (s *DB) closeStatements() {
	for _, st := range s.stmts {
		st.Close()
	}
}

// stmt returns the prepared statement for query, bound to q when q is a transaction,
// or nil when query is not prepared.
func (s *DB) stmt(ctx context.Context, q queryer, query string) *sql.Stmt {
	st, ok := s.stmts[query]
	if !ok {
		return nil
	}
	if tx, ok := q.(*sql.Tx); ok {
		return tx.StmtContext(ctx, st)
	}
	return st
}

// queryRow is q.QueryRowContext, through the prepared statement when there is one.
func (s *DB) queryRow(ctx context.Context, q queryer, query string, args ...any) *sql.Row {
	if st := s.stmt(ctx, q, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.QueryRowContext(ctx, query, args...)
}

// exec is q.ExecContext, through the prepared statement when there is one.
func (s *DB) exec(ctx context.Context, q queryer, query string, args ...any) (sql.Result, error) {
	if st := s.stmt(ctx, q, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.ExecContext(ctx, query, args...)
}
