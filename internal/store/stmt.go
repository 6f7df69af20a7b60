package store

import (
	"context"
	"database/sql"
	"time"
)

// querier runs the store's SQL through prepared statements, kept per query text for
// the life of the DB: parsing a statement anew on every call was the largest single
// cost of a write (see docs/benchmarks.md). The query texts are the store's own
// constants and a bounded number of filter combinations, never caller input, so the
// cache stays small.
type querier struct {
	s  *DB
	tx *sql.Tx // nil outside a transaction
}

// q runs outside a transaction; in runs inside tx.
func (s *DB) q() querier            { return querier{s: s} }
func (s *DB) in(tx *sql.Tx) querier { return querier{s: s, tx: tx} }
func (q querier) stmt(ctx context.Context, query string) *sql.Stmt {
	v, ok := q.s.stmts.Load(query)
	if !ok && q.tx != nil {
		// Preparing takes a connection from the pool; a transaction waiting for one
		// while every connection is held by such transactions would wait for ever.
		// So inside a transaction the first use runs unprepared, and the statement is
		// prepared beside it for next time.
		if _, loading := q.s.stmts.LoadOrStore(query, preparing{}); !loading {
			go q.s.prepare(query)
		}
		return nil
	}
	if !ok {
		v = q.s.prepare(query)
	}
	st, ok := v.(*sql.Stmt)
	switch {
	case !ok:
		return nil // being prepared, or preparing failed
	case q.tx != nil:
		return q.tx.StmtContext(ctx, st)
	}
	return st
}

// preparing marks a statement being prepared (or that failed to prepare).
type preparing struct{}

// prepare prepares query and caches it; on failure the query keeps running
// unprepared, and the unprepared call reports any error.
func (s *DB) prepare(query string) any {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		s.stmts.Store(query, preparing{})
		return preparing{}
	}
	// Someone else may have prepared it meanwhile: keep theirs (it may be in use)
	// and close ours; replace only a marker.
	for {
		actual, loaded := s.stmts.LoadOrStore(query, st)
		if !loaded {
			return st
		}
		if theirs, ok := actual.(*sql.Stmt); ok {
			st.Close()
			return theirs
		}
		if s.stmts.CompareAndSwap(query, actual, st) {
			return st
		}
	}
}

// join runs q in the transaction ctx carries (DB.withTx), if any and q has none.
func (q querier) join(ctx context.Context) querier {
	if q.tx == nil {
		q.tx = q.s.joined(ctx)
	}
	return q
}

// statementContext is the context a statement of q runs with. Inside a SQLite
// transaction (each one a group commit's, groupcommit.go) a statement is not
// interrupted when its caller's context ends: SQLite answers an interrupted write by
// rolling back the whole transaction, the other members' writes with it, and the
// driver watches every cancellable context with a goroutine of its own, one per
// statement. A member whose context has ended before its turn still does not run.
func (q querier) statementContext(ctx context.Context) context.Context {
	if q.tx != nil && q.s.dialect.name == "sqlite" {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

func (q querier) raw() interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	ExecContext(context.Context, string, ...any) (sql.Result, error)
} {
	if q.tx != nil {
		return q.tx
	}
	return q.s.db
}

// QueryRowContext is sql.DB's, through the statement cache.
func (q querier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	q = q.join(ctx)
	ctx = q.statementContext(ctx)
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.raw().QueryRowContext(ctx, query, args...)
}

// QueryContext is sql.DB's, through the statement cache.
func (q querier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	q = q.join(ctx)
	ctx = q.statementContext(ctx)
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.raw().QueryContext(ctx, query, args...)
}

// ExecContext is sql.DB's, through the statement cache.
func (q querier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	q = q.join(ctx)
	ctx = q.statementContext(ctx)
	if st := q.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.raw().ExecContext(ctx, query, args...)
}

// closeStatements closes the cached statements.
func (s *DB) closeStatements() {
	s.stmts.Range(func(k, v any) bool {
		if st, ok := v.(*sql.Stmt); ok {
			st.Close()
		}
		s.stmts.Delete(k)
		return true
	})
}
