package gwjobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
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
		if err := w.confirm(ctx, a.Reference, info); err != nil && !errs.Is(err, errs.Conflict) {
			return err
		}
		// The student's details stay on the booking, out of the logs.
		log.InfoContext(ctx, "booking confirmed by the portal", "status", info.EnrollmentStatus)
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

// bookingModifier is the store's way to change a booking under a lock
// (gateway.Store); the confirmation uses it to keep what the portal answered.
type bookingModifier interface {
	ModifyBooking(ctx context.Context, key gateway.BookingKey, fn func(*gateway.Booking, *gateway.Class) error) (gateway.Booking, error)
}

// confirm records the portal's confirmation. When the store holds the booking (the
// reference system), the details the reserve call did not carry are filled in from
// the portal's answer in the same change; otherwise the booking system confirms it.
func (w *confirmWorker) confirm(ctx context.Context, reference string, info tpclient.BookingInformation) error {
	if store, ok := w.deps.Store.(bookingModifier); ok {
		_, err := store.ModifyBooking(ctx, gateway.BookingKey{Reference: reference}, func(b *gateway.Booking, _ *gateway.Class) error {
			if err := b.Confirm(); err != nil {
				return err
			}
			fillFromPortal(b, info)
			return nil
		})
		if !errs.Is(err, errs.NotFound) {
			return err
		}
	}
	_, err := w.deps.System.Confirm(ctx, reference)
	return err
}

// fillFromPortal sets each empty detail of b to what the portal answered.
func fillFromPortal(b *gateway.Booking, info tpclient.BookingInformation) {
	for _, f := range []struct {
		dst *string
		src string
	}{
		{&b.Student.FirstName, info.FirstName}, {&b.Student.LastName, info.LastName}, {&b.Student.Email, info.Email},
		{&b.Student.Phone, info.Phone}, {&b.Student.BirthDate, info.BirthDate},
		{&b.Enroller.FirstName, info.Enroller.FirstName}, {&b.Enroller.LastName, info.Enroller.LastName},
		{&b.Enroller.Email, info.Enroller.Email}, {&b.Enroller.Phone, info.Enroller.Phone}, {&b.Company, info.Company},
	} {
		if *f.dst == "" {
			*f.dst = f.src
		}
	}
}

func (w *confirmWorker) release(ctx context.Context, log *slog.Logger, reference, reason string) error {
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
