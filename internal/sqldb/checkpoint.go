package sqldb

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// SQLite copies the pages its write-ahead log (WAL) holds back into the database
// file in checkpoints. By default the connection whose COMMIT takes the WAL past
// 1000 frames runs one at once, inside that commit: for the store's group commit
// that is inside the group's turn, while every other writer waits (3.6 % of a
// booking's CPU, docs/benchmarks.md). A Checkpointer runs them on a goroutine and
// a connection of their own instead, PASSIVE, so that they never wait for or block
// a writer; the writers' own automatic checkpoints remain as a backstop at
// backstopFrames, should the Checkpointer not be told of some writes.

const (
	// checkpointEvery is the least time between two background checkpoints: the WAL
	// grows by at most one such interval's writes (plus a checkpoint's duration)
	// before it is copied back and, once no reader needs its frames, reused from its
	// start.
	checkpointEvery = 100 * time.Millisecond
	// backstopFrames is the writers' own wal_autocheckpoint with a Checkpointer
	// (32 MiB of 4 KiB pages), well above what the Checkpointer lets the WAL reach.
	backstopFrames = 8000
	// checkpointTimeout bounds one checkpoint, so that Close does not wait forever.
	checkpointTimeout = 30 * time.Second
)

// Checkpointer runs the WAL checkpoints of a SQLite database opened by
// OpenSQLiteCheckpointed, after the writes it is told of (Committed).
type Checkpointer struct {
	db    *sql.DB
	every time.Duration
	kick  chan struct{} // one pending request; more coalesce
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
	// runs counts the checkpoints run, and backfilled and frames are the WAL's
	// frames copied back and its frames after the last one, for tests.
	runs, backfilled, frames atomic.Int64
}

// OpenSQLiteCheckpointed is OpenSQLite with the WAL's checkpoints run by the
// returned Checkpointer, which the caller tells of its commits and closes before
// the database.
func OpenSQLiteCheckpointed(path string) (*sql.DB, *Checkpointer, error) {
	db, err := openSQLite(path, backstopFrames)
	if err != nil {
		return nil, nil, err
	}
	return db, newCheckpointer(db, checkpointEvery), nil
}

func newCheckpointer(db *sql.DB, every time.Duration) *Checkpointer {
	c := &Checkpointer{db: db, every: every, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// Committed tells c that a write transaction committed, so the WAL has grown. It
// never blocks: the checkpoint runs later, on c's goroutine. A nil c (a database
// without one) does nothing.
func (c *Checkpointer) Committed() {
	if c == nil {
		return
	}
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// Close stops c, running a last checkpoint if writes came since the previous one,
// and waits for it. The database stays open.
func (c *Checkpointer) Close() {
	c.once.Do(func() { close(c.stop) })
	<-c.done
}

func (c *Checkpointer) run() {
	defer close(c.done)
	for {
		select {
		case <-c.kick:
		case <-c.stop:
			select {
			case <-c.kick:
				c.checkpoint()
			default:
			}
			return
		}
		c.checkpoint()
		// Writes during the pause ask for one more checkpoint after it.
		select {
		case <-time.After(c.every):
		case <-c.stop:
		}
	}
}

// checkpoint runs one PASSIVE checkpoint: it copies what frames it can without
// waiting for readers or writers, and leaves the rest to the next one.
func (c *Checkpointer) checkpoint() {
	ctx, cancel := context.WithTimeout(context.Background(), checkpointTimeout)
	defer cancel()
	var busy, log, done int
	if err := c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &done); err != nil {
		slog.Warn("sqlite: WAL checkpoint", "err", err)
		return
	}
	c.runs.Add(1)
	c.frames.Store(int64(log))
	c.backfilled.Store(int64(done))
}

// Runs reports how many checkpoints c has run.
func (c *Checkpointer) Runs() int64 { return c.runs.Load() }
