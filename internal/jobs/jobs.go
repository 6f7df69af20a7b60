// Package jobs runs the portal's durable background work on River, a maintained job
// queue that keeps its jobs in the same database as the portal (SQLite or
// PostgreSQL), so that work survives restarts and is shared by several instances:
//
//   - cleanup: the cancel call for an ABANDONED reservation, retried with backoff
//     and jitter until the provider answers;
//   - a periodic scan that abandons bookings a stopped process left PENDING, and
//     schedules cleanup for every abandoned booking that still needs one (a crash
//     between marking a booking and scheduling its job loses nothing);
//   - a periodic sweep that deletes cancelled classes once their restore window is over;
//   - mail: the delivery of each message in the outbox, retried with backoff, and the
//     scan schedules any unsent message that has no job (mail.go).
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
)

// Options tune the runner; zero values take the defaults noted.
type Options struct {
	// RetryBase is the first retry delay of a cleanup; each retry doubles it, up
	// to RetryMax, with ±25% jitter. Defaults 5 s and 15 min.
	RetryBase, RetryMax time.Duration
	// MaxAttempts of a cleanup before it is given up (and logged). Default 50 (days).
	MaxAttempts int
	// ScanEvery is how often abandoned bookings are scanned and cancelled classes
	// swept. Default 30 s.
	ScanEvery time.Duration
	// PollEvery is how often idle workers look for new jobs. Default 1 s.
	PollEvery time.Duration
	Logger    *slog.Logger
	// MigrationLock, when set, runs River's migrations under the portal's
	// cross-process migration lock (store.DB.WithMigrationLock), so that instances
	// starting together on PostgreSQL never race to create River's tables and types.
	MigrationLock func(ctx context.Context, fn func(context.Context) error) error
	// Mail delivers the mail outbox (mail.go); nil delivers nothing.
	Mail *MailOptions
}

func (o *Options) defaults() {
	if o.RetryBase <= 0 {
		o.RetryBase = 5 * time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 15 * time.Minute
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 50
	}
	if o.ScanEvery <= 0 {
		o.ScanEvery = 30 * time.Second
	}
	if o.PollEvery <= 0 {
		o.PollEvery = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Mail != nil {
		o.Mail.defaults()
	}
}

// Runner runs the background jobs. It implements booking.Cleaner.
type Runner struct {
	client *river.Client[*sql.Tx]
	opts   Options
}

var _ booking.Cleaner = (*Runner)(nil)

// Migrate creates or updates River's tables in db. dialect is "sqlite" or "postgres".
// On PostgreSQL, processes that may start together must call it under a shared lock
// (New does, given Options.MigrationLock); on SQLite it serialises itself.
func Migrate(ctx context.Context, db *sql.DB, dialect string) error {
	m, err := rivermigrate.New(driver(db, dialect), nil)
	if err != nil {
		return fmt.Errorf("jobs: migrations: %w", err)
	}
	if dialect == "postgres" {
		// Run under the caller's advisory lock (Options.MigrationLock): PostgreSQL
		// cannot serialise concurrent CREATE TYPE by transactions alone.
		if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return fmt.Errorf("jobs: migrate: %w", err)
		}
		return nil
	}
	// SQLite: one transaction, which takes the database's write lock as it begins
	// (the store opens SQLite with _txlock=immediate), so processes sharing the file
	// migrate one after another and the later ones find nothing to do.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	if _, err := m.MigrateTx(ctx, tx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	return nil
}

func driver(db *sql.DB, dialect string) riverdriver.Driver[*sql.Tx] {
	if dialect == "postgres" {
		return riverdatabasesql.New(db)
	}
	return riversqlite.New(db)
}

// New prepares a runner over db (migrating River's tables); Start starts it.
func New(ctx context.Context, db *sql.DB, dialect string, bookings *booking.Service, cat *catalog.Service, opts Options) (*Runner, error) {
	opts.defaults()
	migrate := func(ctx context.Context) error { return Migrate(ctx, db, dialect) }
	if opts.MigrationLock != nil {
		if err := opts.MigrationLock(ctx, migrate); err != nil {
			return nil, err
		}
	} else if err := migrate(ctx); err != nil {
		return nil, err
	}
	r := &Runner{opts: opts}
	workers := river.NewWorkers()
	river.AddWorker(workers, &cleanupWorker{bookings: bookings, opts: opts})
	river.AddWorker(workers, &scanWorker{bookings: bookings, runner: r, catalog: cat, logger: opts.Logger})
	river.AddWorker(workers, &mailWorker{opts: opts.Mail, logger: opts.Logger})
	client, err := river.NewClient(driver(db, dialect), &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 8}},
		Workers:           workers,
		MaxAttempts:       opts.MaxAttempts,
		FetchPollInterval: max(opts.PollEvery, 100*time.Millisecond),
		FetchCooldown:     100 * time.Millisecond,
		// River's SQLite driver emulates LISTEN by querying a table every 50 ms,
		// parsing the query anew each time: two thirds of an idle portal's CPU.
		// Polling for jobs every PollEvery instead delays a cleanup by up to a
		// second, and a second process on the same file takes over leadership
		// within seconds rather than at once: both fine (docs/benchmarks.md).
		PollOnly:   dialect == "sqlite",
		JobTimeout: time.Minute,
		Logger:     opts.Logger.With("component", "jobs"),
		PeriodicJobs: []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(opts.ScanEvery),
				func() (river.JobArgs, *river.InsertOpts) { return scanArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	r.client = client
	return r, nil
}

// Start starts working; Stop ends it.
func (r *Runner) Start(ctx context.Context) error { return r.client.Start(ctx) }

// Stop waits for running jobs to finish, until ctx is done.
func (r *Runner) Stop(ctx context.Context) error { return r.client.Stop(ctx) }

// ScheduleCleanup implements booking.Cleaner. Scheduling the same booking twice makes
// one job.
func (r *Runner) ScheduleCleanup(ctx context.Context, ref string) error {
	_, err := r.client.Insert(ctx, cleanupArgs{BookingReference: ref}, &river.InsertOpts{
		UniqueOpts: river.UniqueOpts{ByArgs: true},
	})
	return err
}

// cleanupArgs is the job that cleans up one abandoned reservation.
type cleanupArgs struct {
	BookingReference string `json:"booking_reference" river:"unique"`
}

func (cleanupArgs) Kind() string { return "tportal.cleanup_abandoned" }

type cleanupWorker struct {
	river.WorkerDefaults[cleanupArgs]
	bookings *booking.Service
	opts     Options
}

func (w *cleanupWorker) Work(ctx context.Context, job *river.Job[cleanupArgs]) error {
	err := w.bookings.CleanupAbandoned(ctx, job.Args.BookingReference)
	if err != nil && job.Attempt >= job.MaxAttempts {
		w.opts.Logger.ErrorContext(ctx, "giving up cleaning up an abandoned reservation; cancel it with the provider by hand",
			"booking", job.Args.BookingReference, "attempts", job.Attempt, "err", err)
	}
	return err
}

// NextRetry backs off exponentially from RetryBase to RetryMax with ±25% jitter, so
// that many cleanups for one provider that is down do not return in lockstep.
func (w *cleanupWorker) NextRetry(job *river.Job[cleanupArgs]) time.Time {
	return time.Now().Add(Backoff(job.Attempt, w.opts.RetryBase, w.opts.RetryMax))
}

// Backoff is the delay before retry number attempt (1-based).
func Backoff(attempt int, base, maxDelay time.Duration) time.Duration {
	d := base
	for i := 1; i < attempt && d < maxDelay; i++ {
		d *= 2
	}
	d = min(d, maxDelay)
	jitter := time.Duration(float64(d) * (rand.Float64()*0.5 - 0.25))
	return d + jitter
}

// scanArgs is the periodic job that schedules pending cleanups and sweeps classes.
type scanArgs struct{}

func (scanArgs) Kind() string { return "tportal.scan" }

type scanWorker struct {
	river.WorkerDefaults[scanArgs]
	bookings *booking.Service
	catalog  *catalog.Service
	runner   *Runner
	logger   *slog.Logger
}

func (w *scanWorker) Work(ctx context.Context, _ *river.Job[scanArgs]) error {
	if n, err := w.bookings.AbandonStale(ctx); err != nil {
		return err
	} else if n > 0 {
		w.logger.WarnContext(ctx, "abandoned bookings left pending by a stopped process", "bookings", n)
	}
	refs, err := w.bookings.PendingCleanups(ctx, 500)
	if err != nil {
		return err
	}
	for _, ref := range refs {
		if err := w.runner.ScheduleCleanup(ctx, ref); err != nil {
			return err
		}
	}
	if err := w.runner.scheduleUnsent(ctx); err != nil {
		return err
	}
	n, err := w.catalog.SweepCancelled(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		w.logger.InfoContext(ctx, "deleted cancelled classes after their restore window", "classes", n)
	}
	return nil
}
