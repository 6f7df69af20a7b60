package gwjobs

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/gateway"
	"github.com/tportal/tportal/internal/gateway/certificate"
	"github.com/tportal/tportal/tpclient"
)

// outcomeArgs is the report of one attendance outcome to the portal.
type outcomeArgs struct {
	Reference       string `json:"reference"`
	PortalReference string `json:"portal_reference"`
	Status          string `json:"status"`
	CompletionDate  string `json:"completion_date,omitempty"`
}

// Kind names the job in River's tables.
func (outcomeArgs) Kind() string { return "gateway.report_outcome" }

type outcomeWorker struct {
	river.WorkerDefaults[outcomeArgs]
	deps Deps
	opts Options
}

// Work reports the outcome with updateBookingStatus and, for COMPLETED, uploads the
// certificate. An outcome corrected since the job was inserted is left to the
// correction's job. After a report it reads the booking again: if the outcome was
// corrected meanwhile, the correction's job may have reported first, so it reports the
// correction too, and the portal always ends with the gateway's last outcome.
func (w *outcomeWorker) Work(ctx context.Context, job *river.Job[outcomeArgs]) error {
	a := job.Args
	b, err := w.deps.System.Booking(ctx, a.Reference)
	switch {
	case errs.Is(err, errs.NotFound):
		w.opts.Logger.WarnContext(ctx, "outcome: the booking is gone from the gateway", "booking", a.Reference)
		return nil
	case err != nil:
		return err
	case string(b.Status) != a.Status || string(b.CompletionDate) != a.CompletionDate:
		return nil // corrected since: the newer outcome's job reports it
	}
	for range maxPushRounds {
		if err := w.report(ctx, job, b); err != nil {
			return err
		}
		after, err := w.deps.System.Booking(ctx, a.Reference)
		if err != nil {
			return err
		}
		if after.Status == b.Status && after.CompletionDate == b.CompletionDate {
			return nil
		}
		b = after
	}
	return errors.New("the outcome kept changing while it was reported; trying again")
}

// report sends b's outcome, and its certificate when it is COMPLETED.
func (w *outcomeWorker) report(ctx context.Context, job *river.Job[outcomeArgs], b gateway.Booking) error {
	err := w.deps.Portal.UpdateBookingStatus(ctx, b.PortalReference, tpclient.BookingStatus(b.Status), string(b.CompletionDate))
	if err != nil {
		return w.failed(ctx, job, "updateBookingStatus", err)
	}
	if b.Status != gateway.Completed {
		return nil
	}
	doc, err := w.certificate(ctx, b)
	if err != nil {
		return w.failed(ctx, job, "certificate", err)
	}
	_, err = w.deps.Portal.UploadDocumentation(ctx, b.PortalReference, tpclient.Document{
		FileName: "certificate-" + b.Reference + ".pdf", Content: doc, Type: tpclient.DocumentCourseCertificate,
	})
	if err != nil {
		return w.failed(ctx, job, "uploadDocumentation", err)
	}
	w.opts.Logger.InfoContext(ctx, "reported the outcome and uploaded the certificate", "booking", b.Reference)
	return nil
}

// certificate renders the booking's certificate. The student's name is the one the
// reserve call gave; when it gave none, the portal is asked.
func (w *outcomeWorker) certificate(ctx context.Context, b gateway.Booking) ([]byte, error) {
	course, err := w.deps.Store.Course(ctx, b.CourseID)
	if err != nil {
		return nil, err
	}
	class, err := w.deps.Store.Class(ctx, b.CourseID, b.ClassID)
	if err != nil {
		return nil, err
	}
	student := strings.TrimSpace(b.Student.FirstName + " " + b.Student.LastName)
	if student == "" {
		info, err := w.deps.Portal.BookingInformation(ctx, b.PortalReference)
		if err != nil {
			return nil, err
		}
		student = strings.TrimSpace(info.FirstName + " " + info.LastName)
	}
	completed, err := time.Parse(time.DateOnly, string(b.CompletionDate))
	if err != nil {
		return nil, err
	}
	return certificate.Render(certificate.Details{
		Number:         certificate.NumberFor(b.Reference),
		StudentName:    student,
		CourseName:     course.Name,
		CourseID:       course.ExternalID,
		ClassStart:     day(class.StartDate),
		ClassEnd:       day(class.EndDate),
		Place:          place(class),
		ProviderName:   w.opts.ProviderName,
		CompletionDate: completed,
	})
}

func day(d gateway.Date) time.Time {
	t, _ := time.Parse(time.DateOnly, string(d)) // zero for an invalid date: not printed
	return t
}

func place(c gateway.Class) string {
	parts := []string{c.Location}
	if c.Address.Line1 != "" {
		parts = append(parts, c.Address.Line1)
	}
	if city := strings.TrimSpace(c.Address.ZipCode + " " + c.Address.City); city != "" && city != c.Location {
		parts = append(parts, city)
	}
	return strings.Join(parts, ", ")
}

// failed decides what a failed report becomes: the portal refusing it for good (the
// booking is cancelled there, or the report is invalid) is logged and given up;
// anything else is retried.
func (w *outcomeWorker) failed(ctx context.Context, job *river.Job[outcomeArgs], step string, err error) error {
	log := w.opts.Logger.With("booking", job.Args.Reference, "status", job.Args.Status, "step", step, "attempt", job.Attempt)
	if errors.Is(err, tpclient.ErrConflict) || errors.Is(err, tpclient.ErrBadRequest) || errors.Is(err, tpclient.ErrForbidden) || errors.Is(err, tpclient.ErrTooLarge) {
		log.ErrorContext(ctx, "the portal refused the outcome report; check the booking with the portal's support", "err", err)
		return river.JobCancel(err)
	}
	if job.Attempt >= job.MaxAttempts {
		log.ErrorContext(ctx, "giving up reporting the outcome", "err", err)
	} else {
		log.WarnContext(ctx, "outcome report failed; retrying", "err", err)
	}
	return err
}

// NextRetry backs off with full jitter.
func (w *outcomeWorker) NextRetry(job *river.Job[outcomeArgs]) time.Time {
	return w.opts.Now().Add(Backoff(job.Attempt, w.opts.RetryBase, w.opts.RetryMax))
}
