// Package gwjobs runs the provider gateway's durable background work on River, the
// job queue the portal uses too, in the gateway's own database (SQLite or PostgreSQL):
//
//   - confirmation: after each reservation, getBookingInformation until the portal
//     answers; backoff with full jitter while it says 404, the seat released on 410 or
//     when the confirmation window is over;
//   - catalogue push: every class change reaches the portal (addClass, updateClass,
//     cancelClass, restoreClass), retried with backoff and jitter; bursts of changes to
//     one class make one call;
//   - outcomes: attendance COMPLETED / NO_SHOW / FAILED sent with updateBookingStatus,
//     and for COMPLETED a PDF certificate uploaded with uploadDocumentation.
//
// Jobs are inserted in the same transaction as the change that needs them (Queue
// implements gwstore.ChangeQueue with River's InsertTx), so a change and its job
// commit or roll back together and survive restarts and kill -9. The command-line
// tools insert with a Queue while `serve` may be down; `serve` runs a Runner, which
// works the jobs.
package gwjobs

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

	"github.com/tportal/tportal/internal/gateway"
	"github.com/tportal/tportal/internal/gateway/reconcile"
)

// Options tune the runner; zero values take the defaults noted.
type Options struct {
	// ConfirmWindow is how long a held seat waits for the portal to confirm the
	// booking before it is released. Default 10 min.
	ConfirmWindow time.Duration
	// ConfirmBase and ConfirmMax bound the wait between getBookingInformation calls
	// while the portal answers 404: the n-th wait is drawn at random from
	// [0, min(ConfirmMax, ConfirmBase·2ⁿ⁻¹)] (full jitter). Defaults 1 s and 1 min.
	ConfirmBase, ConfirmMax time.Duration
	// RetryBase and RetryMax bound the retries of a push or an outcome that failed, in
	// the same way. Defaults 5 s and 15 min.
	RetryBase, RetryMax time.Duration
	// MaxAttempts of a push or an outcome before it is given up (and logged). Default
	// 100 (about a day at the default RetryMax).
	MaxAttempts int
	// PushDelay is how long a class change waits before it is pushed, so that a burst
	// of changes to one class (seat after seat) makes one call. Default 1 s.
	PushDelay time.Duration
	// RescueAfter is how long a job may run before River takes it for lost (its
	// process was killed) and runs it again; a job's own time limit is half of it.
	// Default 2 min.
	RescueAfter time.Duration
	// PollEvery is how often idle workers look for new jobs. Default 1 s.
	PollEvery time.Duration
	// ProviderName is printed on certificates as their issuer.
	ProviderName string
	Logger       *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (o *Options) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&o.ConfirmWindow, 10*time.Minute)
	set(&o.ConfirmBase, time.Second)
	set(&o.ConfirmMax, time.Minute)
	set(&o.RetryBase, 5*time.Second)
	set(&o.RetryMax, 15*time.Minute)
	set(&o.PushDelay, time.Second)
	set(&o.RescueAfter, 2*time.Minute)
	// A push waits PushDelay inside its job, which must end well before it is rescued.
	o.RescueAfter = max(o.RescueAfter, 4*o.PushDelay)
	set(&o.PollEvery, time.Second)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 100
	}
	if o.ProviderName == "" {
		o.ProviderName = "The course provider"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Store is what the jobs read and change in the gateway's data; gateway.Store
// (package gwstore) implements it.
type Store interface {
	reconcile.Catalogue
	Course(ctx context.Context, externalID string) (gateway.Course, error)
	Class(ctx context.Context, courseID, classID string) (gateway.Class, error)
}

// Deps are the parts the jobs work with.
type Deps struct {
	Store Store
	// System confirms, releases and reads bookings (gateway.Reference, or a provider's
	// own system).
	System gateway.BookingSystem
	// Portal is the portal's API v1 (a *tpclient.Client).
	Portal reconcile.Portal
}

// Queue inserts the gateway's jobs, inside the caller's transaction. It implements
// gwstore.ChangeQueue. A Queue from NewQueue only inserts (for the command line); the
// one a Runner returns also works them.
type Queue struct {
	client *river.Client[*sql.Tx]
	opts   Options
	// listener, in a Runner's Queue, wakes its workers when Committed is called.
	listener *localListener
}

// Runner works the gateway's jobs.
type Runner struct {
	Queue
}

// migrationLockID is the PostgreSQL advisory lock held while River's tables are
// migrated, so that gateway instances and commands starting together do not race.
const migrationLockID int64 = 0x6777_7269_7665 // "gwrive"

// PostgresSchema is the PostgreSQL schema of the gateway's River tables. The gateway's
// own tables are prefixed gw_ so that it can share a database with the portal; River's
// table names are fixed, so the gateway's live in their own schema, and the portal's
// River (which would otherwise take the gateway's jobs and leadership) never sees them.
const PostgresSchema = "tportal_gateway"

func schema(dialect string) string {
	if dialect == "postgres" {
		return PostgresSchema
	}
	return "" // the gateway's own SQLite file
}

// Migrate creates or updates River's tables in db. dialect is "sqlite" or "postgres".
// On PostgreSQL it creates them in PostgresSchema, holding an advisory lock meanwhile:
// one process migrates, the others wait and then find nothing to do.
func Migrate(ctx context.Context, db *sql.DB, dialect string) error {
	if dialect == "postgres" {
		conn, err := db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("gwjobs: migration lock: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLockID); err != nil {
			return fmt.Errorf("gwjobs: migration lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLockID) //nolint:errcheck // closing the session frees it too
		if _, err := conn.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+PostgresSchema); err != nil {
			return fmt.Errorf("gwjobs: schema %s: %w", PostgresSchema, err)
		}
	}
	m, err := rivermigrate.New(driver(db, dialect), &rivermigrate.Config{Schema: schema(dialect)})
	if err != nil {
		return fmt.Errorf("gwjobs: migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("gwjobs: migrate: %w", err)
	}
	return nil
}

func driver(db *sql.DB, dialect string) riverdriver.Driver[*sql.Tx] {
	if dialect == "postgres" {
		return riverdatabasesql.New(db)
	}
	return riversqlite.New(db)
}

// NewQueue returns an insert-only queue over db (migrating River's tables), for
// commands that change the catalogue or record attendance while `serve` may be down.
func NewQueue(ctx context.Context, db *sql.DB, dialect string, opts Options) (*Queue, error) {
	opts.defaults()
	if err := Migrate(ctx, db, dialect); err != nil {
		return nil, err
	}
	// The local driver: no notification per insert, which no runner reads.
	d := localDriver{Driver: driver(db, dialect), listener: newLocalListener(schema(dialect))}
	client, err := river.NewClient(d, &river.Config{Logger: opts.Logger.With("component", "gwjobs"), Schema: schema(dialect)})
	if err != nil {
		return nil, fmt.Errorf("gwjobs: %w", err)
	}
	return &Queue{client: client, opts: opts}, nil
}

// New prepares a runner over db (migrating River's tables); Start starts it. Set it
// as the store's change queue (gwstore.DB.SetChangeQueue(&r.Queue)).
func New(ctx context.Context, db *sql.DB, dialect string, deps Deps, opts Options) (*Runner, error) {
	opts.defaults()
	if err := Migrate(ctx, db, dialect); err != nil {
		return nil, err
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &confirmWorker{deps: deps, opts: opts})
	river.AddWorker(workers, &pushWorker{deps: deps, opts: opts})
	river.AddWorker(workers, &outcomeWorker{deps: deps, opts: opts})
	// Workers poll every PollEvery and are woken in process by Committed (wake.go).
	listener := newLocalListener(schema(dialect))
	client, err := river.NewClient(localDriver{Driver: driver(db, dialect), listener: listener}, &river.Config{
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 8}},
		Workers:              workers,
		MaxAttempts:          opts.MaxAttempts,
		FetchPollInterval:    max(opts.PollEvery, 50*time.Millisecond),
		FetchCooldown:        50 * time.Millisecond,
		JobTimeout:           opts.RescueAfter / 2,
		RescueStuckJobsAfter: opts.RescueAfter,
		Logger:               opts.Logger.With("component", "gwjobs"),
		Schema:               schema(dialect),
	})
	if err != nil {
		return nil, fmt.Errorf("gwjobs: %w", err)
	}
	return &Runner{Queue{client: client, opts: opts, listener: listener}}, nil
}

// Start starts working.
func (r *Runner) Start(ctx context.Context) error { return r.client.Start(ctx) }

// Stop waits for running jobs to finish, until ctx is done.
func (r *Runner) Stop(ctx context.Context) error { return r.client.Stop(ctx) }

// Committed implements gwstore.CommitWaker: the store calls it after each transaction
// it committed. A Runner's Queue wakes its workers, who then see the jobs the
// transaction inserted at once rather than at their next poll; an insert-only Queue
// has no workers to wake.
func (q *Queue) Committed() {
	if q.listener != nil {
		q.listener.wake()
	}
}

// ClassChanged implements gwstore.ChangeQueue: it inserts a push of the class. The job
// carries the fingerprint of the class as committed; when it runs (PushDelay after
// the change), a job whose class has changed since leaves the call to the newer
// change's job.
func (q *Queue) ClassChanged(ctx context.Context, tx *sql.Tx, c gateway.Class) error {
	_, err := q.client.InsertTx(ctx, tx, pushArgs{CourseID: c.CourseID, ClassID: c.ID, State: fingerprint(c)}, nil)
	if err != nil {
		return fmt.Errorf("gwjobs: queue push of class %s: %w", c.Key(), err)
	}
	return nil
}

// BookingHeld implements gwstore.ChangeQueue: it inserts the confirmation of the
// booking, one per booking.
func (q *Queue) BookingHeld(ctx context.Context, tx *sql.Tx, b gateway.Booking) error {
	held := b.CreatedAt
	if held.IsZero() {
		held = q.opts.Now()
	}
	_, err := q.client.InsertTx(ctx, tx, confirmArgs{Reference: b.Reference, PortalReference: b.PortalReference, HeldAt: held},
		&river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}})
	if err != nil {
		return fmt.Errorf("gwjobs: queue confirmation of booking %s: %w", b.Reference, err)
	}
	return nil
}

// AttendanceRecorded implements gwstore.ChangeQueue: it inserts the report of the
// outcome to the portal. The store calls it only when the outcome changes, and every
// change gets its own job (a correction back to an earlier outcome must be reported
// again).
func (q *Queue) AttendanceRecorded(ctx context.Context, tx *sql.Tx, b gateway.Booking) error {
	_, err := q.client.InsertTx(ctx, tx, outcomeArgs{
		Reference: b.Reference, PortalReference: b.PortalReference,
		Status: string(b.Status), CompletionDate: string(b.CompletionDate),
	}, nil)
	if err != nil {
		return fmt.Errorf("gwjobs: queue outcome of booking %s: %w", b.Reference, err)
	}
	return nil
}

// Backoff is a wait drawn with full jitter: at random in [0, min(maxDelay, base·2ⁿ⁻¹)]
// for the n-th retry (n ≥ 1), so that many retries against one portal spread out.
func Backoff(n int, base, maxDelay time.Duration) time.Duration {
	ceiling := base
	for i := 1; i < n && ceiling < maxDelay; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, maxDelay)
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling + 1)
}
