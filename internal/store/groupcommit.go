package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tportal/tportal/internal/errs"
)

// Group commit for SQLite's write transactions.
//
// SQLite runs one write transaction at a time, and most of a write's cost is BEGIN
// and COMMIT: the commit writes every dirty page to the WAL, and consecutive writes
// dirty the same pages (the class row, the bookings' index tail, the journal, the
// outbox). So the writers of this process queue for one shared transaction, each
// running its fn under its own SAVEPOINT, and the transaction commits once no writer
// is waiting (or after groupMaxMembers writers, or groupMaxAge): each page is written
// once per group instead of once per writer.
//
// The guarantees, as with one transaction per call:
//   - a writer's tx returns nil only after the COMMIT that holds its writes has
//     succeeded; a failed commit is every member's error (a booking is never
//     reported made and then lost);
//   - a writer whose fn fails has its savepoint rolled back and gets fn's error; the
//     other members are unaffected (the group's first member runs without a
//     savepoint, as nothing precedes it: when it fails, the transaction is rolled
//     back and ends with it, and the writers queued behind it start the next one);
//   - the transaction is begun with a context no member owns, so a member's
//     cancelled context fails that member's statements only; a member whose context
//     is done when its turn comes does not run;
//   - the members run one after another on the transaction's connection, never in
//     parallel, and a member's callees join the transaction through withTx as before.
//
// Every group runs on one writer connection, taken from the pool at the first group
// and kept out of it until Close (writer). SQLite drops a connection's page cache
// when another connection has committed since its last transaction, so a write on
// whichever pooled connection came free re-read the pages the previous group had
// just written (BenchmarkBookingPath/sqlite: read syscalls per booking 1.77 → 1.47
// on the shared 2-CPU machine; 2.80 → 2.12 measured before with readers running).
// The readers keep the pool. Groups never
// overlap (a group begins only after the previous one has ended, both under turn),
// so the connection never holds two transactions.
//
// SQLite rolls back the entire transaction, every savepoint with it, when a write
// statement is interrupted, and the driver interrupts a statement whose context is
// cancelled. The store's own statements in a group are therefore run with a context
// that is never cancelled (querier.statementContext); a statement run on tx directly
// with a cancellable context could still undo its whole group. The members whose fn
// had succeeded then run fn again in a new group (up to groupReruns times), which is
// why fn must change nothing but tx and what it rebuilds on every run (the store's fns
// read their rows in tx and recompute from them). Any other loss of the transaction
// (a disk error) is every member's error; in no case does a member see success for
// writes that were not committed.
const (
	groupMaxMembers = 32
	groupMaxAge     = 2 * time.Millisecond
	groupReruns     = 3
)

// groupCommit queues this process's SQLite writers into shared transactions. Waiting
// here is a queue, where waiting in SQLite's busy handler is a sleep of up to 100 ms
// (docs/benchmarks.md). Other processes on the same file, and the few writes made
// outside a transaction, still wait in the busy handler.
type groupCommit struct {
	turn    sync.Mutex    // held by the writer running in the open group, opening or committing it
	waiting atomic.Int32  // writers blocked on turn: while there are some, the group stays open
	open    *group        // the group being filled, nil when none; guarded by turn
	conn    *sql.Conn     // the writer connection, nil until the first group or after a failure; guarded by turn
	closed  bool          // Close has released conn: no new one is taken; guarded by turn
	maxAge  time.Duration // how long a group takes new members; groupMaxAge when zero (tests raise it)
	// groups and writers count the ended groups and their members, for metrics:
	// writers / groups is how many writes share a commit.
	groups, writers atomic.Uint64
}

// GroupCommits reports how many group transactions have ended (committed or lost)
// on this SQLite store, and how many writers they held (zero on PostgreSQL).
func (s *DB) GroupCommits() (groups, writers uint64) {
	return s.group.groups.Load(), s.group.writers.Load()
}

func (gc *groupCommit) age() time.Duration {
	if gc.maxAge == 0 {
		return groupMaxAge
	}
	return gc.maxAge
}

// group is one shared transaction and the outcome its members wait for.
type group struct {
	tx      *sql.Tx
	members int
	opened  time.Time
	done    chan struct{} // closed once the transaction has committed or rolled back
	err     error         // the commit's error, or why the transaction was lost; read after done
	rerun   bool          // lost with a member's interrupted write: the others run again
}

// errFirstFailed ends a group whose first member failed: its transaction is rolled
// back, and it held no other member's writes.
var errFirstFailed = errors.New("store: the group's first member failed")

// groupTx runs fn in the open group transaction (opening one if none is), and returns
// once that transaction has committed: see the comment at the top of this file.
func (s *DB) groupTx(ctx context.Context, fn func(*sql.Tx) error) error {
	for run := 0; ; run++ {
		rerun, err := s.groupTxOnce(ctx, fn)
		if !rerun || run == groupReruns {
			return err
		}
	}
}

// groupTxOnce is one run of groupTx; rerun tells that fn succeeded but its group was
// lost with another member's interrupted write, so fn should run again.
func (s *DB) groupTxOnce(ctx context.Context, fn func(*sql.Tx) error) (rerun bool, err error) {
	gc := &s.group
	gc.waiting.Add(1)
	gc.turn.Lock()
	gc.waiting.Add(-1)
	g := gc.open
	first := g == nil
	if first {
		tx, err := s.beginGroup(ctx)
		if err != nil {
			gc.turn.Unlock()
			if ctxErr := ctx.Err(); ctxErr != nil {
				return false, ctxErr // as a member whose context is done before its turn
			}
			return false, mapErr(err, "begin transaction")
		}
		g = &group{tx: tx, opened: time.Now(), done: make(chan struct{})}
		gc.open = g
	}
	g.members++
	panicked, lost, err := s.member(ctx, g.tx, fn, first)
	if lost == nil && gc.waiting.Load() == 0 {
		// Before committing a group nobody else is queued for, let the goroutines
		// ready to run have their turn: a writer among them queues here and joins
		// this group instead of paying for a commit of its own. Without it, groups
		// on a busy machine averaged 2.4 writers, as the others were still waiting
		// for a CPU (docs/benchmarks.md). When nothing else is ready, it costs
		// nothing.
		runtime.Gosched()
	}
	if lost == nil && gc.waiting.Load() > 0 && g.members < groupMaxMembers && time.Since(g.opened) < gc.age() {
		gc.turn.Unlock() // the next writer continues the group, and the last one commits it
	} else {
		gc.open = nil
		if lost != nil {
			// SQLite has already rolled it back, or the group is its first member
			// alone, which failed.
			g.tx.Rollback() //nolint:errcheck // a failed ROLLBACK leaves nothing committed either
			g.err, g.rerun = lost, err != nil && ctx.Err() != nil
		} else {
			g.err = mapErr(g.tx.Commit(), "commit")
			if g.err == nil {
				s.checkpoints.Committed() // the WAL grew: checkpoint it, off this turn
			}
		}
		close(g.done)
		gc.groups.Add(1)
		gc.writers.Add(uint64(g.members))
		gc.turn.Unlock()
	}
	if panicked != nil {
		panic(panicked)
	}
	// A failed member waits for the group too: its fn may have failed on another
	// member's write (a unique key taken in this very transaction), which its caller
	// may then read, and must find committed (a repeated booking's replay).
	<-g.done
	if err != nil {
		return false, err // this member's writes are not in the transaction
	}
	return g.rerun, g.err
}

// errStoreClosed is a write's error once the store is closed.
var errStoreClosed = errors.New("store: closed")

// beginGroup begins a group's transaction on the writer connection, taking one from
// the pool if there is none (the first group, or the previous connection failed);
// ctx bounds only that wait. The caller holds gc.turn.
func (s *DB) beginGroup(ctx context.Context) (*sql.Tx, error) {
	gc := &s.group
	for attempt := 0; ; attempt++ {
		if gc.closed {
			return nil, errStoreClosed
		}
		if gc.conn == nil {
			c, err := s.db.Conn(ctx)
			if err != nil {
				return nil, err
			}
			gc.conn = c
		}
		// Not the member's context: database/sql rolls a transaction back when the
		// context it began with is cancelled, and the others' writes are in it.
		tx, err := gc.conn.BeginTx(context.Background(), nil)
		if err == nil {
			return tx, nil
		}
		// Whatever the failure, the next group starts on a fresh connection rather
		// than on one that may fail for ever (database/sql has closed it already
		// when the driver reported it broken: sql.ErrConnDone from then on). A
		// broken connection is retried at once; anything else (a lock another
		// process held past busy_timeout) is this writer's error.
		discard(gc.conn)
		gc.conn = nil
		if attempt > 0 || !(errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn)) {
			return nil, err
		}
	}
}

// discard closes c's driver connection instead of handing it back to the pool,
// whose next user must not inherit it in whatever state made BEGIN fail.
func discard(c *sql.Conn) {
	// A function of Raw returning driver.ErrBadConn makes database/sql close the
	// connection; Close then only ends c (sql.ErrConnDone when it already was).
	c.Raw(func(any) error { return driver.ErrBadConn }) //nolint:errcheck // returns ErrBadConn, on purpose
	c.Close()                                           //nolint:errcheck // nothing left to release
}

// closeWriter releases the writer connection for Close, once the group being
// filled (if any) has ended: closing a sql.Conn waits for its transaction, which
// needs turn to end. Writes that would open a new group fail with errStoreClosed.
func (s *DB) closeWriter() error {
	gc := &s.group
	for {
		gc.turn.Lock()
		gc.closed = true
		g := gc.open
		if g == nil {
			break
		}
		gc.turn.Unlock()
		<-g.done // closed under turn, with open set to nil
	}
	defer gc.turn.Unlock()
	if gc.conn == nil {
		return nil
	}
	err := gc.conn.Close()
	gc.conn = nil
	return err
}

// member runs fn under a savepoint of tx. panicked is fn's panic, for the caller to
// re-raise once the group is handed on; lost is set when tx itself is gone (SQLite
// rolled it back), so the group must end; err is fn's error (its savepoint rolled
// back).
//
// The group's first member (first) runs without a savepoint: nothing precedes it in
// tx, so when it fails the whole transaction is rolled back instead (lost is set to
// end the group, which holds that member alone), and the members queued behind it
// open a group of their own. That saves a SAVEPOINT and a RELEASE per group.
func (s *DB) member(ctx context.Context, tx *sql.Tx, fn func(*sql.Tx) error, first bool) (panicked any, lost, err error) {
	if err := ctx.Err(); err != nil {
		if first {
			return nil, errFirstFailed, err
		}
		return nil, nil, err
	}
	if first {
		func() {
			defer func() { panicked = recover() }()
			err = fn(tx)
		}()
		if err == nil && panicked == nil {
			return nil, nil, nil
		}
		if err == nil {
			err = fmt.Errorf("store: panic in a transaction: %v", panicked)
		}
		return panicked, errFirstFailed, err
	}
	// The savepoint statements run with a context no member owns: interrupting one
	// would roll back the whole transaction.
	bg := context.Background()
	q := s.in(tx)
	if _, err := q.ExecContext(bg, `SAVEPOINT member`); err != nil {
		return nil, errs.Wrap(err, "store: savepoint"), nil
	}
	func() {
		defer func() { panicked = recover() }()
		err = fn(tx)
	}()
	if err == nil && panicked == nil {
		if _, relErr := q.ExecContext(bg, `RELEASE member`); relErr != nil {
			lost = errs.Wrap(relErr, "store: the transaction was rolled back under this write")
			return nil, lost, lost
		}
		return nil, nil, nil
	}
	if err == nil {
		err = fmt.Errorf("store: panic in a transaction: %v", panicked)
	}
	if _, rbErr := q.ExecContext(bg, `ROLLBACK TO member`); rbErr != nil {
		// SQLite rolled the whole transaction back (an interrupted write, a disk
		// error): the members before this one lost their writes too.
		return panicked, errs.Wrap(rbErr, "store: the group transaction was rolled back with a failed write (%v)", err), err
	}
	if _, relErr := q.ExecContext(bg, `RELEASE member`); relErr != nil {
		return panicked, errs.Wrap(relErr, "store: release savepoint"), err
	}
	return panicked, nil, err
}
