package jobs

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/errs"
)

// Outbox is the mail outbox the delivery job reads and marks (store.DB).
type Outbox interface {
	Notification(ctx context.Context, id int64) (booking.Notification, error)
	UnsentNotifications(ctx context.Context, maxAttempts, limit int) ([]int64, error)
	MarkNotificationSent(ctx context.Context, id int64, at time.Time) error
	RecordNotificationFailure(ctx context.Context, id int64, reason string) error
}

// Sender delivers one message (smtpmail.Sender).
type Sender interface {
	Send(ctx context.Context, n booking.Notification) error
}

// MailOptions configure the delivery of the outbox.
type MailOptions struct {
	Outbox Outbox
	// Sender delivers; nil leaves every message in the outbox, for staff to read.
	Sender Sender
	// RetryBase is the first retry delay of a failed delivery, doubling up to
	// RetryMax with ±25% jitter. Defaults 30 s and 1 h.
	RetryBase, RetryMax time.Duration
	// MaxAttempts of one message before it is given up (and logged); it stays in the
	// outbox, unsent, with its last error. Default 25 (about a day).
	MaxAttempts int
}

func (o *MailOptions) defaults() {
	if o.RetryBase <= 0 {
		o.RetryBase = 30 * time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = time.Hour
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 25
	}
}

// mailArgs is the job that delivers one outbox message.
type mailArgs struct {
	NotificationID int64 `json:"notification_id" river:"unique"`
}

func (mailArgs) Kind() string { return "tportal.mail" }

func (r *Runner) mailInsert(id int64) river.InsertManyParams {
	return river.InsertManyParams{Args: mailArgs{NotificationID: id}, InsertOpts: &river.InsertOpts{
		MaxAttempts: r.opts.Mail.MaxAttempts,
		UniqueOpts:  river.UniqueOpts{ByArgs: true},
	}}
}

// Delivers reports whether the runner sends mail (an SMTP server is configured).
func (r *Runner) Delivers() bool { return r.opts.Mail != nil && r.opts.Mail.Sender != nil }

// EnqueueMailTx schedules the delivery of outbox messages in tx, the transaction
// that added them, so that they are scheduled exactly when they are stored. It is a
// store.MailQueue; set it with store.DB.SetMailQueue when Delivers.
func (r *Runner) EnqueueMailTx(ctx context.Context, tx *sql.Tx, ids []int64) error {
	if !r.Delivers() || len(ids) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, len(ids))
	for i, id := range ids {
		params[i] = r.mailInsert(id)
	}
	_, err := r.client.InsertManyTx(ctx, tx, params)
	return err
}

// scheduleUnsent schedules every message still unsent and not given up: those of a
// process that stopped with a store not wired to the queue, or kept while no SMTP
// server was configured. The unique jobs make this a no-op for scheduled ones.
func (r *Runner) scheduleUnsent(ctx context.Context) error {
	if !r.Delivers() {
		return nil
	}
	ids, err := r.opts.Mail.Outbox.UnsentNotifications(ctx, r.opts.Mail.MaxAttempts, 500)
	if err != nil || len(ids) == 0 {
		return err
	}
	params := make([]river.InsertManyParams, len(ids))
	for i, id := range ids {
		params[i] = r.mailInsert(id)
	}
	_, err = r.client.InsertMany(ctx, params)
	return err
}

type mailWorker struct {
	river.WorkerDefaults[mailArgs]
	opts   *MailOptions
	logger *slog.Logger
}

func (w *mailWorker) Work(ctx context.Context, job *river.Job[mailArgs]) error {
	if w.opts == nil || w.opts.Sender == nil {
		// Scheduled by an instance with SMTP configured; this one has none. The
		// message stays unsent in the outbox, and an instance with SMTP schedules it
		// again.
		return river.JobCancel(errors.New("no SMTP server configured here; the message stays in the outbox"))
	}
	n, err := w.opts.Outbox.Notification(ctx, job.Args.NotificationID)
	if errs.Is(err, errs.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if n.SentAt != nil {
		return nil // delivered by an earlier attempt that could not finish its bookkeeping
	}
	if err := w.opts.Sender.Send(ctx, n); err != nil {
		if rerr := w.opts.Outbox.RecordNotificationFailure(ctx, n.ID, err.Error()); rerr != nil {
			w.logger.WarnContext(ctx, "could not record a failed mail delivery", "notification", n.ID, "err", rerr)
		}
		if job.Attempt >= job.MaxAttempts {
			w.logger.ErrorContext(ctx, "giving up sending a mail; it stays in the outbox", "notification", n.ID,
				"kind", n.Kind, "attempts", job.Attempt, "err", err)
		}
		return err
	}
	return w.opts.Outbox.MarkNotificationSent(ctx, n.ID, time.Now())
}

// NextRetry backs off exponentially, as the cleanup does.
func (w *mailWorker) NextRetry(job *river.Job[mailArgs]) time.Time {
	return time.Now().Add(Backoff(job.Attempt, w.opts.RetryBase, w.opts.RetryMax))
}
