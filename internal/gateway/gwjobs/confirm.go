package gwjobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/gateway"
	"github.com/tportal/tportal/tpclient"
)

// confirmArgs is the confirmation of one held booking.
type confirmArgs struct {
	Reference       string    `json:"reference" river:"unique"`
	PortalReference string    `json:"portal_reference"`
	HeldAt          time.Time `json:"held_at"`
}

// Kind names the job in River's tables.
func (confirmArgs) Kind() string { return "gateway.confirm_booking" }

type confirmWorker struct {
	river.WorkerDefaults[confirmArgs]
	deps Deps
	opts Options
}

// Work asks the portal for the booking. It snoozes (which River does not count as an
// attempt) while the portal does not have it yet, and decides when the portal answers
// or the window is over.
func (w *confirmWorker) Work(ctx context.Context, job *river.Job[confirmArgs]) error {
	a := job.Args
	log := w.opts.Logger.With("booking", a.Reference, "trainingportalBookingReference", a.PortalReference)
	b, err := w.deps.System.Booking(ctx, a.Reference)
	switch {
	case errs.Is(err, errs.NotFound):
		log.WarnContext(ctx, "confirmation: the booking is gone from the gateway")
		return nil
	case err != nil:
		return err
	case b.Status != gateway.Held:
		return nil // cancelled, released or confirmed meanwhile
	}
	deadline := a.HeldAt.Add(w.opts.ConfirmWindow)
	info, err := w.deps.Portal.BookingInformation(ctx, a.PortalReference)
	switch {
	case err == nil:
		if _, err := w.deps.System.Confirm(ctx, a.Reference); err != nil && !errs.Is(err, errs.Conflict) {
			return err
		}
		log.InfoContext(ctx, "booking confirmed by the portal", "status", info.EnrollmentStatus,
			"student", info.FirstName+" "+info.LastName, "email", info.Email)
		return nil
	case errors.Is(err, tpclient.ErrGone):
		return w.release(ctx, log, a.Reference, "the portal answered that booking "+a.PortalReference+" was rejected or abandoned (410 Gone)")
	}
	now := w.opts.Now()
	if !now.Before(deadline) {
		return w.release(ctx, log, a.Reference, fmt.Sprintf("the portal did not confirm booking %s within %s (last answer: %v)", a.PortalReference, w.opts.ConfirmWindow, err))
	}
	wait := Backoff(snoozes(job.Metadata)+1, w.opts.ConfirmBase, w.opts.ConfirmMax)
	var apiErr *tpclient.APIError
	if errors.As(err, &apiErr) && apiErr.RetryAfter > wait {
		wait = apiErr.RetryAfter
	}
	if !errors.Is(err, tpclient.ErrNotFound) {
		log.WarnContext(ctx, "confirmation: the portal did not answer; trying again", "err", err, "in", wait)
	}
	return river.JobSnooze(min(wait, deadline.Sub(now)))
}

func (w *confirmWorker) release(ctx context.Context, log interface {
	WarnContext(context.Context, string, ...any)
}, reference, reason string) error {
	if _, err := w.deps.System.Release(ctx, reference, reason); err != nil && !errs.Is(err, errs.Conflict) {
		return err
	}
	log.WarnContext(ctx, "released the seat of a booking the portal does not have", "reason", reason)
	return nil
}

// snoozes is how often River snoozed the job so far (kept in its metadata).
func snoozes(metadata []byte) int {
	var m struct {
		Snoozes int `json:"snoozes"`
	}
	_ = json.Unmarshal(metadata, &m) // absent or unreadable: none yet
	return m.Snoozes
}
