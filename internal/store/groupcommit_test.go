package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// openGroupDB opens a fresh SQLite store with two scratch tables; the second has a
// deferred foreign key, which SQLite checks at COMMIT, to make a commit fail.
func openGroupDB(t *testing.T) *DB {
	t.Helper()
	s, err := Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "gc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	_, err = s.SQL().Exec(`CREATE TABLE gc_rows (v TEXT PRIMARY KEY);
		CREATE TABLE gc_children (v TEXT PRIMARY KEY, parent TEXT REFERENCES gc_rows (v) DEFERRABLE INITIALLY DEFERRED)`)
	if err != nil {
		t.Fatal(err)
	}
	s.group.maxAge = time.Hour // the groups below are formed slowly, on purpose
	return s
}

func insert(ctx context.Context, tx *sql.Tx, v string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO gc_rows (v) VALUES ($1)`, v)
	return err
}

// stored reports whether row v is committed, read on another connection.
func stored(t *testing.T, s *DB, v string) bool {
	t.Helper()
	var n int
	if err := s.SQL().QueryRow(`SELECT count(*) FROM gc_rows WHERE v = $1`, v).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// member is one writer of a group: its context and its fn.
type member struct {
	ctx      context.Context
	fn       func(*sql.Tx) error
	returned *atomic.Bool // if not nil, set once tx has returned
}

// inGroup runs ms as members of one group transaction: the first holds its turn
// until all the others are queued behind it. It returns each member's error and
// checks that they all ran in the same transaction.
func inGroup(t *testing.T, s *DB, ms ...member) []error {
	t.Helper()
	out := make([]error, len(ms))
	txs := make([]*sql.Tx, len(ms))
	started := make(chan struct{})
	var wg sync.WaitGroup
	run := func(i int, before func()) {
		defer func() {
			if p := recover(); p != nil {
				out[i] = fmt.Errorf("panic: %v", p)
			}
			if ms[i].returned != nil {
				ms[i].returned.Store(true)
			}
			wg.Done()
		}()
		out[i] = s.tx(ms[i].ctx, func(tx *sql.Tx) error {
			if txs[i] == nil { // the first run (fn may run again, see the rerun test)
				txs[i] = tx
				if before != nil {
					before()
				}
			}
			return ms[i].fn(tx)
		})
	}
	wg.Add(len(ms))
	go run(0, func() {
		close(started)
		deadline := time.Now().Add(10 * time.Second)
		for s.group.waiting.Load() < int32(len(ms)-1) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	})
	<-started
	for i := 1; i < len(ms); i++ {
		go run(i, nil)
	}
	wg.Wait()
	for i, tx := range txs {
		if tx != nil && tx != txs[0] {
			t.Fatalf("member %d ran in another transaction than the first", i)
		}
	}
	return out
}

func TestGroupCommitFailingMemberAffectsNoOther(t *testing.T) {
	s := openGroupDB(t)
	ctx := context.Background()
	boom := errors.New("boom")
	got := inGroup(t, s,
		member{ctx, func(tx *sql.Tx) error { return insert(ctx, tx, "a") }, nil},
		member{ctx, func(tx *sql.Tx) error {
			if err := insert(ctx, tx, "b"); err != nil {
				return err
			}
			return boom
		}, nil},
		member{ctx, func(tx *sql.Tx) error { return insert(ctx, tx, "c") }, nil},
	)
	if got[0] != nil || got[2] != nil || !errors.Is(got[1], boom) {
		t.Fatalf("errors = %v, want nil, boom, nil", got)
	}
	for v, want := range map[string]bool{"a": true, "b": false, "c": true} {
		if got := stored(t, s, v); got != want {
			t.Errorf("row %q stored = %v, want %v", v, got, want)
		}
	}
}

func TestGroupCommitNobodyReturnsBeforeCommit(t *testing.T) {
	s := openGroupDB(t)
	ctx := context.Background()
	var firstReturned atomic.Bool
	inGroup(t, s,
		member{ctx, func(tx *sql.Tx) error { return insert(ctx, tx, "first") }, &firstReturned},
		member{ctx, func(tx *sql.Tx) error {
			// The first member's fn is done, but the transaction is still open.
			time.Sleep(20 * time.Millisecond)
			if firstReturned.Load() {
				t.Error("the first member returned before its group committed")
			}
			return insert(ctx, tx, "second")
		}, nil},
	)

	// Under load, whatever the grouping: a row is readable elsewhere once tx returns.
	s.group.maxAge = 0
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 40 {
				v := string(rune('A'+w)) + string(rune('0'+i%10)) + string(rune('a'+i/10))
				if err := s.tx(ctx, func(tx *sql.Tx) error { return insert(ctx, tx, v) }); err != nil {
					t.Error(err)
					return
				}
				if !stored(t, s, v) {
					t.Errorf("row %q not readable after tx returned", v)
				}
			}
		})
	}
	wg.Wait()
}

// A member that fails on another member's write (the same unique key) returns only
// once that write is committed, so that its caller finds it: a repeated booking with
// an idempotency key replays the first instead of answering "already exists".
func TestGroupCommitFailedMemberReturnsAfterCommit(t *testing.T) {
	s := openGroupDB(t)
	ctx := context.Background()
	queued := func(n int32) {
		for deadline := time.Now().Add(10 * time.Second); s.group.waiting.Load() < n && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
	}
	var secondReturned atomic.Bool
	errs := make([]error, 3)
	var wg sync.WaitGroup
	first := make(chan struct{})
	wg.Go(func() {
		errs[0] = s.tx(ctx, func(tx *sql.Tx) error {
			close(first)
			queued(2) // the second member, then the third, queue behind this one
			return insert(ctx, tx, "key")
		})
	})
	<-first
	wg.Go(func() {
		errs[1] = s.tx(ctx, func(tx *sql.Tx) error { return insert(ctx, tx, "key") })
		secondReturned.Store(true)
	})
	queued(1)
	wg.Go(func() {
		errs[2] = s.tx(ctx, func(tx *sql.Tx) error {
			// The second member has failed, and the group is still open.
			time.Sleep(20 * time.Millisecond)
			if secondReturned.Load() {
				t.Error("the failed member returned before the key it failed on was committed")
			}
			return insert(ctx, tx, "third")
		})
	})
	wg.Wait()
	if errs[0] != nil || errs[1] == nil || errs[2] != nil {
		t.Fatalf("errors = %v, want the second member alone to fail, on the taken key", errs)
	}
}

func TestGroupCommitFailureReachesEveryMember(t *testing.T) {
	s := openGroupDB(t)
	ctx := context.Background()
	got := inGroup(t, s,
		member{ctx, func(tx *sql.Tx) error { return insert(ctx, tx, "a") }, nil},
		member{ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO gc_children (v, parent) VALUES ('x', 'nobody')`)
			return err // the deferred foreign key fails the COMMIT, not this insert
		}, nil},
		member{ctx, func(tx *sql.Tx) error { return insert(ctx, tx, "c") }, nil},
	)
	for i, err := range got {
		if err == nil {
			t.Errorf("member %d: nil error, want the commit's", i)
		}
	}
	if stored(t, s, "a") || stored(t, s, "c") {
		t.Error("rows of a failed commit are stored")
	}
}

func TestGroupCommitCancelledMemberRollsBackNoOther(t *testing.T) {
	s := openGroupDB(t)
	ctx := context.Background()
	done, cancelDone := context.WithCancel(ctx)
	cancelDone()
	during, cancelDuring := context.WithCancel(ctx)
	got := inGroup(t, s,
		member{ctx, func(tx *sql.Tx) error { return insert(ctx, tx, "a") }, nil},
		member{done, func(tx *sql.Tx) error { return insert(done, tx, "never") }, nil},
		member{during, func(tx *sql.Tx) error {
			if err := insert(during, tx, "half"); err != nil {
				return err
			}
			cancelDuring() // the client went away between two statements
			return insert(during, tx, "other half")
		}, nil},
		member{ctx, func(tx *sql.Tx) error { return insert(ctx, tx, "d") }, nil},
	)
	if got[0] != nil || got[3] != nil {
		t.Fatalf("errors = %v, want nil for the members not cancelled", got)
	}
	if !errors.Is(got[1], context.Canceled) || !errors.Is(got[2], context.Canceled) {
		t.Errorf("errors = %v, want context.Canceled for the cancelled members", got)
	}
	for v, want := range map[string]bool{"a": true, "never": false, "half": false, "other half": false, "d": true} {
		if got := stored(t, s, v); got != want {
			t.Errorf("row %q stored = %v, want %v", v, got, want)
		}
	}
}

// A member cancelled in the middle of a write makes SQLite roll back the whole
// transaction: the other members run again, and never see success for lost writes.
func TestGroupCommitInterruptedWriteRerunsTheOthers(t *testing.T) {
	s := openGroupDB(t)
	ctx := context.Background()
	slow, cancel := context.WithCancel(ctx)
	defer cancel()
	var runs atomic.Int32
	got := inGroup(t, s,
		member{ctx, func(tx *sql.Tx) error { runs.Add(1); return insert(ctx, tx, "a") }, nil},
		member{slow, func(tx *sql.Tx) error {
			time.AfterFunc(20*time.Millisecond, cancel)
			_, err := tx.ExecContext(slow, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000000)
				INSERT INTO gc_rows (v) SELECT 'slow' || i FROM n`)
			return err
		}, nil},
	)
	if got[1] == nil {
		t.Fatal("the interrupted member succeeded")
	}
	if got[0] != nil || !stored(t, s, "a") {
		t.Fatalf("first member: error %v, row stored %v; want its write committed", got[0], stored(t, s, "a"))
	}
	if runs.Load() != 2 {
		t.Errorf("first member's fn ran %d times, want 2 (its first run was rolled back with the interrupted write)", runs.Load())
	}
	if stored(t, s, "slow1") {
		t.Error("the interrupted write is stored")
	}
}

func TestGroupCommitPanickingMember(t *testing.T) {
	s := openGroupDB(t)
	ctx := context.Background()
	got := inGroup(t, s,
		member{ctx, func(tx *sql.Tx) error { return insert(ctx, tx, "a") }, nil},
		member{ctx, func(tx *sql.Tx) error {
			if err := insert(ctx, tx, "p"); err != nil {
				return err
			}
			panic("bug")
		}, nil},
		member{ctx, func(tx *sql.Tx) error { return insert(ctx, tx, "c") }, nil},
	)
	if got[0] != nil || got[2] != nil || got[1] == nil || got[1].Error() != "panic: bug" {
		t.Fatalf("errors = %v, want nil, the re-raised panic, nil", got)
	}
	if !stored(t, s, "a") || !stored(t, s, "c") || stored(t, s, "p") {
		t.Error("a panicking member changed the others' outcome or kept its writes")
	}
}

// The group's first member runs without a savepoint: when it fails (an error, a
// panic, or its context done before its turn), its writes are rolled back with the
// transaction, and the writers queued behind it commit in a group of their own.
func TestGroupCommitFailingFirstMember(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("boom")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	for name, first := range map[string]member{
		"error": {ctx, func(tx *sql.Tx) error {
			if err := insert(ctx, tx, "first"); err != nil {
				return err
			}
			return boom
		}, nil},
		"panic": {ctx, func(tx *sql.Tx) error {
			if err := insert(ctx, tx, "first"); err != nil {
				return err
			}
			panic("bug")
		}, nil},
		"cancelled": {cancelled, func(tx *sql.Tx) error { return insert(ctx, tx, "first") }, nil},
	} {
		t.Run(name, func(t *testing.T) {
			s := openGroupDB(t)
			var firstErr error
			var wg sync.WaitGroup
			started := make(chan struct{})
			wg.Go(func() {
				defer func() {
					if p := recover(); p != nil {
						firstErr = fmt.Errorf("panic: %v", p)
					}
				}()
				firstErr = s.tx(first.ctx, func(tx *sql.Tx) error {
					close(started)
					for deadline := time.Now().Add(10 * time.Second); s.group.waiting.Load() < 2 && time.Now().Before(deadline); {
						time.Sleep(time.Millisecond)
					}
					return first.fn(tx)
				})
				if first.ctx.Err() != nil {
					close(started) // fn never ran
				}
			})
			if first.ctx.Err() == nil {
				<-started
			}
			others := make([]error, 2)
			for i, v := range []string{"second", "third"} {
				wg.Go(func() { others[i] = s.tx(ctx, func(tx *sql.Tx) error { return insert(ctx, tx, v) }) })
			}
			wg.Wait()
			if firstErr == nil || others[0] != nil || others[1] != nil {
				t.Fatalf("errors = %v, %v; want the first member alone to fail", firstErr, others)
			}
			if stored(t, s, "first") {
				t.Error("the failed first member's write is stored")
			}
			if !stored(t, s, "second") || !stored(t, s, "third") {
				t.Error("a write queued behind the failed first member is not stored")
			}
		})
	}
}

// Consecutive groups run on one connection, the writer, whatever the pool hands out
// between them: a TEMP table, which only the connection that made it sees, made in
// the first group is there in the later ones and on no pooled connection.
// database/sql hands out the connection freed last, so while each group took a
// pooled connection, a reader holding one between two groups moved the second
// group to another connection.
func TestGroupCommitKeepsItsConnection(t *testing.T) {
	s := openGroupDB(t)
	ctx := context.Background()
	if err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TEMP TABLE gc_writer (n INTEGER)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		reader, err := s.SQL().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := reader.QueryRowContext(ctx, `SELECT count(*) FROM temp.sqlite_schema WHERE name = 'gc_writer'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("round %d: a pooled connection has the writer's TEMP table", i)
		}
		err = s.tx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO gc_writer (n) VALUES ($1)`, i)
			return err
		})
		reader.Close()
		if err != nil {
			t.Fatalf("round %d: the group did not run on the first group's connection: %v", i, err)
		}
	}
}

// A writer connection that breaks, or that a failed BEGIN leaves unusable, is
// replaced by a fresh one instead of failing every later group; the unusable one
// is closed, not handed back to the pool (it would hold the write lock here).
func TestGroupCommitReplacesABrokenConnection(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name      string
		breakIt   func(*sql.Conn) error
		firstFail bool // the next write fails, and only that one
	}{
		{"closed as bad", func(c *sql.Conn) error {
			// database/sql closes a connection whose user reports it bad.
			if err := c.Raw(func(any) error { return driver.ErrBadConn }); !errors.Is(err, driver.ErrBadConn) {
				return fmt.Errorf("Raw = %v", err)
			}
			return nil
		}, false},
		{"left in a transaction", func(c *sql.Conn) error {
			_, err := c.ExecContext(ctx, `BEGIN IMMEDIATE`)
			return err
		}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := openGroupDB(t)
			if err := s.tx(ctx, func(tx *sql.Tx) error { return insert(ctx, tx, "before") }); err != nil {
				t.Fatal(err)
			}
			broken := s.group.conn
			if err := tt.breakIt(broken); err != nil {
				t.Fatal(err)
			}
			err := s.tx(ctx, func(tx *sql.Tx) error { return insert(ctx, tx, "next") })
			if tt.firstFail != (err != nil) {
				t.Fatalf("the write after the break: %v, want an error: %v", err, tt.firstFail)
			}
			if err := s.tx(ctx, func(tx *sql.Tx) error { return insert(ctx, tx, "after") }); err != nil {
				t.Fatalf("the writer connection was not replaced: %v", err)
			}
			if s.group.conn == broken {
				t.Error("the groups still run on the broken connection")
			}
			if !stored(t, s, "after") || stored(t, s, "next") == tt.firstFail {
				t.Error("the writes' outcomes are not the ones they reported")
			}
		})
	}
}
