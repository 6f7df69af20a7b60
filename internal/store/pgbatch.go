package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// Shared commits for PostgreSQL's one-statement writes.
//
// A class write (the conditional UPDATE of writeIfUnchanged, CreateClass's INSERT) and
// a booking's reserve answer (recordReserveAnswerAtOnce) are each one statement run
// on its own, so each is a commit of its own: a round trip, a socket write and a WAL
// flush the next one waits for (issue 11). So this process's concurrent writes of
// that kind go out together: the first runs at once, alone; those arriving while
// pgBatchInFlight batches are being sent queue, and the next free slot sends up to
// pgBatchMax of them as one pgx batch — one network write, one implicit transaction,
// one commit and one WAL flush. No timer: a write alone waits for nothing.
//
// The guarantees are those of one statement per caller:
//   - a caller learns its outcome only once the batch's commit is known, and its
//     result (rows affected, rows returned) is its own statement's;
//   - when any statement of a batch fails on the server (say, a duplicate class, or
//     a deadlock with another transaction), PostgreSQL rolls the whole batch back
//     and each member then runs alone, in its own goroutine, and gets its own
//     outcome; so is it when the batch could not be sent at all (pgconn.SafeToRetry);
//   - when the outcome is unknown (the connection broke after sending), every member
//     gets the error, as a lone statement's caller would: rerunning could write twice;
//   - a member whose context ends before its batch is sent is dropped and gets its
//     context's error; once sent, the batch runs under a context of its own
//     (pgBatchTimeout), since one caller leaving must not abort the others' commit;
//   - writes inside a caller's transaction (joined) are never batched.
//
// Statements of one batch run one after another in one transaction, so a later one
// sees an earlier one's writes: two conditional updates of one class then behave as
// if run one after the other, the second matching nothing. Their row locks are held
// until the batch's commit, so a batch sends its writes in the order of their lock
// keys (a class write's class id), which every batch, of any process, follows: two
// batches updating the same classes wait for each other instead of deadlocking.
// The callers are concurrent, so any order of their statements is one they could
// have run in.
const (
	pgBatchMax      = 32               // statements per batch
	pgBatchInFlight = 2                // batches sent at once: one filling while another commits
	pgBatchTimeout  = 30 * time.Second // bounds a batch, which no caller's context ends
)

// pgBatches queues this process's one-statement writes for shared batches.
type pgBatches struct {
	mu      sync.Mutex
	sending int        // batches (or lone writes) being sent; guarded by mu
	waiting []*pgBatch // batches waiting for a slot, in order; guarded by mu

	batches, batched atomic.Int64 // batches of several writes sent, and their writes
}

// pgBatch is the writes that share a commit. Its first write's goroutine sends it.
type pgBatch struct {
	writes []*pgWrite    // appended, or a leaving member removed, under mu until sent
	sent   bool          // the batch has its slot: its writes are fixed; guarded by mu
	turn   chan struct{} // closed when the batch gets its slot
	done   chan struct{} // closed once every write's outcome is set
}

// pgWrite is one caller's statement and, once run, its outcome.
type pgWrite struct {
	ctx   context.Context
	query string
	args  []any
	key   int64 // the row the statement locks first, for the batch's order; 0: none
	// read reads the statement's rows, if any (it need not read them all), into
	// the caller's own variables; it may run more than once (a batch rolled back,
	// then the write alone), and what it read counts only when run returns nil.
	read func(pgx.Rows) error

	affected int64 // rows the statement wrote, from its command tag
	alone    bool  // the batch was rolled back or not sent: run on its own
	err      error
}

// writePG runs w's statement on PostgreSQL outside any transaction, in a batch
// with other callers' statements when some are running (see pgBatches), and returns
// its outcome, unmapped (the caller names its write in mapErr); w.affected and what
// w.read stored are valid when it returns nil.
func (s *DB) writePG(w *pgWrite) error {
	p := &s.pgBatches
	p.mu.Lock()
	if p.sending < pgBatchInFlight && len(p.waiting) == 0 {
		p.sending++
		p.mu.Unlock()
		err := s.writeAlone(w.ctx, w)
		p.next()
		return err
	}
	bt, lead := p.join(w)
	p.mu.Unlock()
	if lead {
		<-bt.turn
		p.send(s, bt)
	} else {
		select {
		case <-bt.done:
		case <-w.ctx.Done():
			if p.leave(bt, w) {
				return w.ctx.Err()
			}
			<-bt.done
		}
	}
	if w.alone {
		return s.writeAlone(w.ctx, w)
	}
	return w.err
}

// join adds w to the last waiting batch, or to a new one that w leads; p.mu is held.
func (p *pgBatches) join(w *pgWrite) (bt *pgBatch, lead bool) {
	if n := len(p.waiting); n > 0 && len(p.waiting[n-1].writes) < pgBatchMax {
		bt = p.waiting[n-1]
		bt.writes = append(bt.writes, w)
		return bt, false
	}
	bt = &pgBatch{writes: []*pgWrite{w}, turn: make(chan struct{}), done: make(chan struct{})}
	p.waiting = append(p.waiting, bt)
	return bt, true
}

// leave takes w, whose caller is gone, out of bt if bt was not sent yet.
func (p *pgBatches) leave(bt *pgBatch, w *pgWrite) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if bt.sent {
		return false
	}
	bt.writes = slices.DeleteFunc(bt.writes, func(o *pgWrite) bool { return o == w })
	return true
}

// next gives a finished batch's slot to the batch waiting first, or frees it.
func (p *pgBatches) next() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.waiting) == 0 {
		p.sending--
		return
	}
	bt := p.waiting[0]
	p.waiting = p.waiting[1:]
	bt.sent = true
	close(bt.turn)
}

// send runs bt, which has a slot, and sets each write's outcome.
func (p *pgBatches) send(s *DB, bt *pgBatch) {
	defer func() { // even on a panic, or the batches behind would wait for ever
		p.next()
		close(bt.done)
	}()
	var run []*pgWrite
	for _, w := range bt.writes {
		if err := w.ctx.Err(); err != nil {
			w.err = err // gone before its batch: nothing written
		} else {
			run = append(run, w)
		}
	}
	switch len(run) {
	case 0:
	case 1:
		run[0].err = s.writeAlone(run[0].ctx, run[0])
	default:
		p.batches.Add(1)
		p.batched.Add(int64(len(run)))
		slices.SortStableFunc(run, func(a, b *pgWrite) int { return cmp.Compare(a.key, b.key) })
		ctx, cancel := context.WithTimeout(context.Background(), pgBatchTimeout)
		err := s.writeBatch(ctx, run)
		cancel()
		var pgErr *pgconn.PgError
		// A statement's ERROR aborts the implicit transaction; a FATAL (the server
		// going away) might come after its commit, so it counts as unknown.
		rolledBack := errors.As(err, &pgErr) && pgErr.Severity == "ERROR" || pgconn.SafeToRetry(err)
		for _, w := range run {
			switch {
			case err == nil:
			case rolledBack:
				w.alone, w.err = true, nil
			default:
				w.err = err
			}
		}
	}
}

// writeBatch sends ws as one pgx batch, one implicit transaction, and reads each
// statement's result. An error means that no result counts.
func (s *DB) writeBatch(ctx context.Context, ws []*pgWrite) error {
	return s.onPGConn(ctx, func(c *pgx.Conn) error {
		b := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(ws))}
		for _, w := range ws {
			b.Queue(w.query, w.args...)
		}
		br := c.SendBatch(ctx, b)
		for _, w := range ws {
			rows, err := br.Query()
			if err == nil {
				err = w.result(rows)
			}
			if err != nil {
				br.Close()
				return err
			}
		}
		return br.Close()
	})
}

// writeAlone runs w's statement on its own, a transaction of one statement.
func (s *DB) writeAlone(ctx context.Context, w *pgWrite) error {
	return s.onPGConn(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, w.query, w.args...)
		if err != nil {
			return err
		}
		if err := w.result(rows); err != nil {
			return err
		}
		return w.err
	})
}

// result reads rows through w.read and then w's command tag. A failure of read
// itself (a scan) is w's own error, in w.err: the statement ran and, in a batch,
// the others' outcomes stand. The error returned is the statement's.
func (w *pgWrite) result(rows pgx.Rows) error {
	w.err = w.read(rows)
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	w.affected = rows.CommandTag().RowsAffected()
	return nil
}

// onPGConn runs fn on a pgx connection of the database/sql pool, as readRow does.
func (s *DB) onPGConn(ctx context.Context, fn func(*pgx.Conn) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error { return fn(dc.(*stdlib.Conn).Conn()) })
}

// drainRows is the read of a statement that returns no rows.
func drainRows(pgx.Rows) error { return nil }

// batchable tells whether a write in tx (nil: none) may go through writePG: on
// PostgreSQL, outside any transaction, the caller's included.
func (s *DB) batchable(ctx context.Context, tx *sql.Tx) bool {
	return s.dialect.name == "postgres" && tx == nil && s.joined(ctx) == nil
}
