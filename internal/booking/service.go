package booking

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
)

// Store is the storage bookings need. Implementations do data access only; the rules
// live in Service. Not-found is errs.NotFound.
type Store interface {
	// ProviderByID returns the provider, for its URLs.
	ProviderByID(ctx context.Context, id int64) (catalog.Provider, error)
	// ClassByID returns a class, deleted or not.
	ClassByID(ctx context.Context, id int64) (catalog.Class, error)
	// ClassToBook is ClassByID with the class's provider and course, read together
	// as every booking needs all three.
	ClassToBook(ctx context.Context, id int64) (catalog.Class, catalog.Provider, catalog.Course, error)
	// CreateBooking locks the live class b.ClassID, calls check with it, and if check
	// passes takes one seat, marks the class as booked and inserts b, so concurrent
	// bookings can never take more seats than there are; when check fails none of it
	// stays. A store may take the seat and insert b first and undo both when check
	// fails: a crash in between leaves b PENDING with its seat and no reserve call
	// made, which AbandonStale gives up. It fills b's ID and the class's ids.
	CreateBooking(ctx context.Context, b *Booking, check func(catalog.Class) error) error
	// BookingByReference returns errs.NotFound for an unknown reference.
	BookingByReference(ctx context.Context, ref string) (Booking, error)
	// ProviderBookings returns the bookings of the provider whose portal reference or
	// provider reference is ref, newest first; none is not an error.
	ProviderBookings(ctx context.Context, providerID int64, ref string) ([]Booking, error)
	// HasPendingBooking reports whether the provider has a PENDING booking: a
	// reserve call to it is in flight.
	HasPendingBooking(ctx context.Context, providerID int64) (bool, error)
	// BookingByIdempotencyKey returns errs.NotFound when no booking has the key.
	BookingByIdempotencyKey(ctx context.Context, key string) (Booking, error)
	// ModifyBooking locks the booking, lets fn change it and writes it back; when the
	// state moves into or out of a seat-holding state (State.HoldsSeat) the class's
	// availableSeats moves with it in the same transaction.
	ModifyBooking(ctx context.Context, ref string, fn func(*Booking) error) (Booking, error)
	// RecordReserveAnswer writes the reserve call's journal entry
	// (ReserveAnswer.Journal; nil for none) and, in the same transaction and only if
	// the stored booking is still in before.State, writes after as the answer changed
	// before: its state, provider reference, message, completion date, cleanup flag
	// and UpdatedAt, the seat moved as ModifyBooking moves it, its history event and
	// its Outbox (whose IDs it sets). updated reports whether the booking was still in
	// before.State; when it was not, only the journal entry is written, as the call
	// happened either way.
	RecordReserveAnswer(ctx context.Context, journal any, before Booking, after *Booking) (updated bool, err error)
	// Bookings lists bookings matching the filter, oldest first.
	Bookings(ctx context.Context, f Filter) ([]Booking, error)
	// CreateNotifications adds messages to the outbox in one transaction and sets
	// their IDs.
	CreateNotifications(ctx context.Context, ns []Notification) error
	// CourseByID returns a course, for the messages about its classes.
	CourseByID(ctx context.Context, id int64) (catalog.Course, error)
	DocumentStore
	ListStore
}

// Filter selects bookings; zero fields do not filter.
type Filter struct {
	ClassID        int64
	States         []State
	CleanupPending bool
	CreatedBefore  time.Time
	Limit          int
}

// Notification is an e-mail to a person, kept in the portal's outbox until it is sent.
type Notification struct {
	ID        int64
	BookingID int64  // 0 for a message about no booking (account mails)
	Kind      string // e.g. "class_cancelled"
	To        string // e-mail address
	Subject   string
	Body      string // plain text
	Calendar  string // an iCalendar attachment (invitation.ics), "" when none
	Attempts  int    // delivery attempts that failed so far
	LastError string // why the last attempt failed
	CreatedAt time.Time
	SentAt    *time.Time
}

// Messages composes the e-mails booking events send (internal/mail implements it). It
// does no I/O: the service reads what the messages need and stores what they return.
type Messages interface {
	// Booked is the confirmation of a reserved booking (and its calendar invitation).
	Booked(b Booking, c catalog.Class, course catalog.Course, p catalog.Provider) []Notification
	// Cancelled is the confirmation of a booking cancelled by the enroller.
	Cancelled(b Booking, c catalog.Class, course catalog.Course, p catalog.Provider) []Notification
	// ClassCancelled tells a booking's people that the provider cancelled its class.
	ClassCancelled(b Booking, c catalog.Class, course catalog.Course, p catalog.Provider) []Notification
	// ClassRestored tells a booking's people that the provider restored its class.
	ClassRestored(b Booking, c catalog.Class, course catalog.Course, p catalog.Provider) []Notification
	// ScheduleChanged tells a booking's people that its class moved (before → after).
	ScheduleChanged(b Booking, before, after catalog.Class, course catalog.Course, p catalog.Provider) []Notification
}

// Caller makes the calls to a provider's reserve and cancel URLs. An error means the
// call got no usable answer (timeout, network error, non-2xx, garbage); a readable
// refusal is an answer, not an error.
type Caller interface {
	Reserve(ctx context.Context, p catalog.Provider, b Booking) (ReserveAnswer, error)
	Cancel(ctx context.Context, p catalog.Provider, b Booking) (CancelAnswer, error)
}

// ReserveAnswer is what a provider's reserve URL answered.
type ReserveAnswer struct {
	Successful        bool
	ProviderReference string
	ErrorMessage      string
	// Journal is the call's journal entry as the Caller's adapter made it, opaque
	// here; nil when the adapter journaled the call itself. It is set beside an
	// error too, and handed to Store.RecordReserveAnswer, which writes it in the
	// same transaction as the answer.
	Journal any
}

// CancelAnswer is what a provider's cancel URL answered.
type CancelAnswer struct {
	Cancelled    bool
	ErrorMessage string
}

// Cleaner schedules the background cancel call that cleans up an abandoned
// reservation. A failure to schedule is not fatal: a periodic sweep finds every
// booking whose cleanup is pending.
type Cleaner interface {
	ScheduleCleanup(ctx context.Context, ref string) error
}

// Service books and cancels seats and answers providers about their bookings.
type Service struct {
	Store   Store
	Caller  Caller
	Cleaner Cleaner          // may be nil: the sweep still finds pending cleanups
	Now     func() time.Time // time.Now when nil
	Logger  *slog.Logger     // slog.Default() when nil
	// CallTimeout bounds one reserve or cancel call including its bookkeeping; the
	// call outlives the enroller's request, so a closed browser never leaves a
	// booking PENDING.
	CallTimeout time.Duration
	// MaxDocumentBytes limits one uploaded document; DefaultMaxDocumentBytes when zero.
	MaxDocumentBytes int64
	// Mail composes the e-mails bookings send; nil sends none.
	Mail Messages
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// detached returns a context that keeps ctx's values but not its cancellation, ending
// at deadline: for a reservation its PendingDeadline, after which no process records
// the answer.
func (s *Service) detached(ctx context.Context, deadline time.Time) (context.Context, context.CancelFunc) {
	// A duration on the service's clock (Now may be a test's fixed clock), applied
	// as a timeout on the real one.
	return context.WithTimeout(context.WithoutCancel(ctx), deadline.Sub(s.now()))
}

// Book makes a booking: it stores it PENDING with a seat taken, calls the provider's
// reserve URL, and records the answer. It returns the booking in its final state with
// nil error when RESERVED; with an errs.Conflict error (the provider's message) when
// REJECTED; with an errs.BadGateway error when ABANDONED. Errors before the call
// (bad input, no seat, closed enrollment) return no booking.
func (s *Service) Book(ctx context.Context, r Request) (Booking, error) {
	now := s.now()
	if err := r.validate(catalog.DateOf(now)); err != nil {
		return Booking{}, err
	}
	if r.IdempotencyKey != "" {
		if b, err, found := s.replay(ctx, r); found {
			return b, err
		}
	}
	class, provider, course, err := s.Store.ClassToBook(ctx, r.ClassID)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return Booking{}, errs.E(errs.NotFound, "no class with id %d", r.ClassID)
		}
		return Booking{}, err
	}
	if err := TakesBookings(provider, class); err != nil {
		return Booking{}, err
	}
	b := Booking{
		Reference: NewReference(), ClassID: r.ClassID,
		Student: r.Student, StudentBirthDate: r.StudentBirthDate, Enroller: r.Enroller,
		Company: r.Company, Comment: r.Comment, PurchaseOrderNumber: r.PurchaseOrderNumber,
		IdempotencyKey: r.IdempotencyKey, CompanyID: r.CompanyID, State: Pending, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.Store.CreateBooking(ctx, &b, func(c catalog.Class) error { return Bookable(c, s.now()) }); err != nil {
		if r.IdempotencyKey != "" && errs.Is(err, errs.Conflict) {
			// A concurrent request with the same key may have won the insert.
			if b, err, found := s.replay(ctx, r); found {
				return b, err
			}
		}
		if errs.Is(err, errs.NotFound) {
			return Booking{}, errs.E(errs.NotFound, "class %d has been deleted", r.ClassID)
		}
		return Booking{}, err
	}

	ctx, cancel := s.detached(ctx, s.PendingDeadline(b))
	defer cancel()
	answer, callErr := s.Caller.Reserve(ctx, provider, b)
	res := reserved{s: s, answer: answer, callErr: callErr, class: class, course: course, provider: provider}
	// The answer applies to the booking as Book made it, PENDING; the mails are
	// composed here, outside the transaction and its locks.
	final := b
	res.apply(&final)
	updated, err := s.Store.RecordReserveAnswer(ctx, answer.Journal, b, &final)
	if err == nil && !updated {
		// Another instance gave up on this call (AbandonStale) and owns the booking
		// now; its cleanup will cancel whatever the provider reserved. The journal
		// entry is written; the general path reads the booking as it is (and would
		// apply the answer, were it PENDING after all). A copy of res for the closure,
		// so that only this rare path moves one to the heap.
		late := res
		final, err = s.Store.ModifyBooking(ctx, b.Reference, func(b *Booking) error {
			if b.State == Pending {
				late.apply(b)
			}
			return nil
		})
	}
	if err != nil {
		// The booking stays PENDING with its seat: better held than oversold. The log
		// says which; the enroller sees an internal error.
		return Booking{}, err
	}
	s.scheduleCleanup(ctx, final)
	return final, outcome(final)
}

// reserved is a reserve call's answer (or failure) with what the mails of a reserved
// booking name, as values: pointers to Book's variables would move them to the heap.
// Its apply method is what a closure over the same values was, one allocated on
// every booking with the class, course and provider it captured.
type reserved struct {
	s        *Service
	answer   ReserveAnswer
	callErr  error
	class    catalog.Class
	course   catalog.Course
	provider catalog.Provider
}

// apply applies the answer to a PENDING booking, with the mails it sends dated no
// earlier than the change, so that the history lists the change first (at equal
// times, changes come before mails).
func (r *reserved) apply(b *Booking) {
	answerBooking(b, r.answer, r.callErr, r.s.now())
	if b.State == Reserved && r.s.Mail != nil {
		b.Outbox = r.s.Mail.Booked(*b, r.class, r.course, r.provider)
		for i := range b.Outbox {
			b.Outbox[i].CreatedAt = later(b.Outbox[i].CreatedAt, b.UpdatedAt)
		}
	}
}

// answerBooking applies a reserve call's answer (or its failure, callErr) to a
// PENDING booking at now: RESERVED, REJECTED with the provider's message, or
// ABANDONED with its cleanup pending.
func answerBooking(b *Booking, answer ReserveAnswer, callErr error, now time.Time) {
	b.UpdatedAt = now
	switch {
	case callErr != nil:
		b.State, b.Message, b.CleanupPending = Abandoned, errorText(callErr), true
	case !answer.Successful:
		b.State, b.Message = Rejected, answer.ErrorMessage
	default:
		b.State, b.ProviderReference, b.Message = Reserved, answer.ProviderReference, ""
	}
}

// later returns the later of two times.
func later(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}

// scheduleCleanup asks the Cleaner to cancel an abandoned reservation with the
// provider; a failure is logged, as the periodic scan schedules it again.
func (s *Service) scheduleCleanup(ctx context.Context, b Booking) {
	if b.State != Abandoned || !b.CleanupPending || s.Cleaner == nil {
		return
	}
	if err := s.Cleaner.ScheduleCleanup(ctx, b.Reference); err != nil {
		s.logger().WarnContext(ctx, "could not schedule cleanup; the sweep will", "booking", b.Reference, "err", err)
	}
}

// outcome is the error Book returns with a booking in its state after the reserve
// call: nil when reserved (or later states), Conflict when the provider refused,
// BadGateway when it gave no answer.
func outcome(b Booking) error {
	switch b.State {
	case Abandoned:
		return errs.E(errs.BadGateway, "the provider did not answer the reservation: %s; no seat was booked", b.Message)
	case Rejected:
		msg := b.Message
		if msg == "" {
			msg = "no reason given"
		}
		return errs.E(errs.Conflict, "the provider refused the reservation: %s", msg)
	case Pending:
		return errs.E(errs.Conflict, "this booking request is still waiting for the provider's answer; repeat it in a second")
	case Cancelled:
		return errs.E(errs.Conflict, "this booking request made booking %s, which has since been cancelled", b.Reference)
	}
	return nil
}

// replay answers a repeated request: the booking its idempotency key made, with the
// outcome it had. found is false when the key is new.
func (s *Service) replay(ctx context.Context, r Request) (b Booking, err error, found bool) {
	b, err = s.Store.BookingByIdempotencyKey(ctx, r.IdempotencyKey)
	switch {
	case errs.Is(err, errs.NotFound):
		return Booking{}, nil, false
	case err != nil:
		return Booking{}, err, true
	case !r.sameAs(b):
		return Booking{}, errs.E(errs.Conflict, "Idempotency-Key: already used for a different booking request; use a new key for a new booking"), true
	case b.State == Pending:
		now := s.now()
		deadline := s.PendingDeadline(b)
		if now.Before(deadline) {
			wait := max(deadline.Sub(now).Round(time.Second), time.Second)
			return b, &errs.Error{Code: errs.Conflict, RetryAfter: wait, Message: fmt.Sprintf(
				"this booking request is still waiting for the provider's answer; repeat it in %d s", int(wait.Seconds()))}, true
		}
		// The process that made the call has stopped: give the booking up now
		// rather than at the next scan.
		if b, _, err = s.abandonStale(ctx, b.Reference); err != nil {
			return Booking{}, err, true
		}
		s.scheduleCleanup(ctx, b)
	}
	return b, outcome(b), true
}

// errorText is a failed call's reason as the enroller and the journal see it.
func errorText(err error) string {
	return strings.TrimPrefix(err.Error(), "providercall: ")
}

// Get returns a booking by its reference, for the enroller and staff.
func (s *Service) Get(ctx context.Context, ref string) (Booking, error) {
	b, err := s.Store.BookingByReference(ctx, ref)
	if errs.Is(err, errs.NotFound) {
		return Booking{}, errs.E(errs.NotFound, "no booking with reference %q", ref)
	}
	return b, err
}

// GetFor returns a booking by its reference for a caller acting for companyID (0:
// portal-wide). Another company's booking is errs.NotFound with the same message as an
// unknown reference, so that a company cannot even learn that a reference exists.
func (s *Service) GetFor(ctx context.Context, ref string, companyID int64) (Booking, error) {
	b, err := s.Get(ctx, ref)
	if err != nil {
		return Booking{}, err
	}
	if !b.VisibleTo(companyID) {
		return Booking{}, errs.E(errs.NotFound, "no booking with reference %q", ref)
	}
	return b, nil
}

// CancelFor is Cancel for a caller acting for companyID (0: portal-wide): another
// company's booking is errs.NotFound, as in GetFor.
func (s *Service) CancelFor(ctx context.Context, ref string, companyID int64) (Booking, error) {
	if _, err := s.GetFor(ctx, ref, companyID); err != nil {
		return Booking{}, err
	}
	return s.Cancel(ctx, ref)
}

// Cancel cancels a reserved booking through the provider's cancel URL, until the
// end of the class's cancellation deadline day. A refusal is errs.Conflict with the
// provider's message; no answer is errs.BadGateway, and the booking stays reserved.
func (s *Service) Cancel(ctx context.Context, ref string) (Booking, error) {
	b, err := s.Get(ctx, ref)
	if err != nil {
		return Booking{}, err
	}
	switch b.State {
	case Cancelled:
		return b, nil // cancelling twice is not an error
	case Reserved:
	default:
		return b, errs.E(errs.Conflict, "booking %s is %s; only a reserved booking can be cancelled", ref, b.State)
	}
	class, err := s.Store.ClassByID(ctx, b.ClassID)
	if err != nil {
		return b, err
	}
	if !s.now().Before(class.CancellationClosesAt()) {
		return b, errs.E(errs.Conflict, "the cancellation deadline of class %q was %s; contact the course provider", class.ExternalID, class.CancellationDeadline)
	}
	provider, err := s.Store.ProviderByID(ctx, b.ProviderID)
	if err != nil {
		return b, err
	}
	if provider.CancelURL == "" {
		return b, errs.E(errs.Conflict, "the provider takes no cancellations through the portal; contact the course provider")
	}
	ctx, cancel := s.detached(ctx, s.now().Add(s.pendingFor()))
	defer cancel()
	answer, err := s.Caller.Cancel(ctx, provider, b)
	if err != nil {
		return b, errs.E(errs.BadGateway, "the provider did not answer the cancellation: %s; the booking is still reserved, try again", errorText(err))
	}
	if !answer.Cancelled {
		msg := answer.ErrorMessage
		if msg == "" {
			msg = "no reason given"
		}
		if updated, err := s.Store.ModifyBooking(ctx, ref, func(b *Booking) error { b.Message = msg; return nil }); err == nil {
			b = updated
		}
		return b, errs.E(errs.Conflict, "the provider refused the cancellation: %s", msg)
	}
	course, mail := s.mailCourse(ctx, class, true)
	return s.Store.ModifyBooking(ctx, ref, func(b *Booking) error {
		if b.State == Reserved {
			b.State, b.Message, b.UpdatedAt = Cancelled, answer.ErrorMessage, s.now()
			if mail {
				b.Outbox = s.Mail.Cancelled(*b, class, course, provider)
			}
		}
		return nil
	})
}

// mailCourse reads, before a booking change's transaction, the course its e-mails
// name; mail tells whether to compose them: not without Mail, when want is false, or
// when the course cannot be read (logged: a booking must not fail for its e-mail).
func (s *Service) mailCourse(ctx context.Context, c catalog.Class, want bool) (course catalog.Course, mail bool) {
	if s.Mail == nil || !want {
		return catalog.Course{}, false
	}
	course, err := s.Store.CourseByID(ctx, c.CourseID)
	if err != nil {
		s.logger().ErrorContext(ctx, "no e-mail for a booking change: its course cannot be read", "class", c.ID, "err", err)
		return catalog.Course{}, false
	}
	return course, true
}

// ProviderStatuses are the values of updateBookingStatus's newStatus.
var ProviderStatuses = map[string]State{"NEW": Reserved, "NO_SHOW": NoShow, "FAILED": Failed, "COMPLETED": Completed}

// UpdateStatus records the outcome a provider reports for its booking ref (the
// portal's reference or the provider's own, see ForProvider). COMPLETED needs a
// completion date that is neither in the future nor before the class's start date,
// both in the class's time zone. Statuses may be corrected (COMPLETED back to NEW,
// say); a cancelled booking cannot change.
func (s *Service) UpdateStatus(ctx context.Context, p catalog.Provider, ref, newStatus, completionDate string) (Booking, error) {
	state, ok := ProviderStatuses[strings.ToUpper(strings.TrimSpace(newStatus))]
	if !ok {
		if newStatus == "" {
			return Booking{}, errs.E(errs.Invalid, "newStatus: is required (NEW, NO_SHOW, FAILED or COMPLETED)")
		}
		return Booking{}, errs.E(errs.Invalid, "newStatus: %q is not NEW, NO_SHOW, FAILED or COMPLETED", newStatus)
	}
	b, err := s.ForProvider(ctx, p, ref)
	if err != nil {
		return Booking{}, err
	}
	if b.State == Cancelled {
		return Booking{}, errs.E(errs.Conflict, "booking %s is cancelled; its status cannot change", ref)
	}
	var date string
	if state == Completed {
		class, err := s.Store.ClassByID(ctx, b.ClassID)
		if err != nil {
			return Booking{}, err
		}
		d, err := completionDateOf(completionDate, class, s.now())
		if err != nil {
			return Booking{}, err
		}
		date = d.String()
	}
	return s.Store.ModifyBooking(ctx, b.Reference, func(b *Booking) error {
		if b.State == Cancelled {
			return errs.E(errs.Conflict, "booking %s is cancelled; its status cannot change", ref)
		}
		if !b.State.HoldsSeat() || b.State == Pending {
			return errs.E(errs.Conflict, "booking %s is %s; its status cannot change", ref, b.State)
		}
		b.State, b.CompletionDate, b.UpdatedAt = state, date, s.now()
		return nil
	})
}

// completionDateOf checks the completionDate of a COMPLETED report: required, a
// yyyy-MM-dd date, not after today and not before the class's start date, both in
// the class's own time zone.
func completionDateOf(raw string, class catalog.Class, now time.Time) (catalog.Date, error) {
	if strings.TrimSpace(raw) == "" {
		return catalog.Date{}, errs.E(errs.Invalid, "completionDate: is required with newStatus COMPLETED (yyyy-MM-dd)")
	}
	d, err := catalog.ParseDateInput(strings.TrimSpace(raw))
	if err != nil {
		return catalog.Date{}, errs.E(errs.Invalid, "completionDate: %v", err)
	}
	if today := catalog.DateOf(now.In(class.Zone())); d.Compare(today) > 0 {
		return catalog.Date{}, errs.E(errs.Invalid, "completionDate: %s is in the future (today is %s where the class is held)", d, today)
	}
	if d.Compare(class.StartDate) < 0 {
		return catalog.Date{}, errs.E(errs.Invalid, "completionDate: %s is before class %q starts on %s", d, class.ExternalID, class.StartDate)
	}
	return d, nil
}

// CleanupAbandoned sends the cancel call for an abandoned reservation, so that no
// phantom seat stays held at the provider. An error means "try again later"; any
// readable answer (cancelled, or "no such booking") ends the cleanup.
func (s *Service) CleanupAbandoned(ctx context.Context, ref string) error {
	b, err := s.Get(ctx, ref)
	if err != nil {
		return err
	}
	if b.State != Abandoned || !b.CleanupPending {
		return nil
	}
	provider, err := s.Store.ProviderByID(ctx, b.ProviderID)
	if err != nil {
		return err
	}
	if provider.CancelURL == "" {
		_, err := s.Store.ModifyBooking(ctx, ref, func(b *Booking) error {
			b.CleanupPending, b.Message = false, b.Message+"; not cleaned up: the provider has no cancel URL"
			return nil
		})
		return err
	}
	answer, err := s.Caller.Cancel(ctx, provider, b)
	if errs.Is(err, errs.Invalid) {
		// The call cannot be made at all (say the cancel URL needs the provider's
		// reference, which an unanswered reservation never got): retrying will not
		// help, so stop and leave the reason on the booking for staff.
		_, merr := s.Store.ModifyBooking(ctx, ref, func(b *Booking) error {
			b.CleanupPending = false
			b.Message += "; not cleaned up, cancel it with the provider by hand: " + errs.MessageOf(err)
			return nil
		})
		s.logger().WarnContext(ctx, "abandoned reservation cannot be cleaned up by the portal", "booking", ref, "err", err)
		return merr
	}
	if err != nil {
		return errs.E(errs.BadGateway, "cleanup of %s: %s", ref, errorText(err))
	}
	_, err = s.Store.ModifyBooking(ctx, ref, func(b *Booking) error {
		b.CleanupPending, b.UpdatedAt = false, s.now()
		if !answer.Cancelled && answer.ErrorMessage != "" {
			b.Message += "; cleanup answer: " + answer.ErrorMessage
		}
		return nil
	})
	return err
}

// PendingCleanups returns the references of abandoned bookings still to clean up.
func (s *Service) PendingCleanups(ctx context.Context, limit int) ([]string, error) {
	bs, err := s.Store.Bookings(ctx, Filter{States: []State{Abandoned}, CleanupPending: true, Limit: limit})
	if err != nil {
		return nil, err
	}
	refs := make([]string, len(bs))
	for i, b := range bs {
		refs[i] = b.Reference
	}
	return refs, nil
}

// PendingMargin is how long the bookkeeping around a reserve call (recording the
// answer) may take beyond the call's own timeout.
const PendingMargin = 15 * time.Second

// PendingDeadline is the moment a booking still PENDING is given up: its creation
// plus the call timeout plus PendingMargin. The process making the call stops trying
// to record the answer at that moment, so after it only a stopped process (a crash, a
// kill -9) can have left the booking PENDING.
func (s *Service) PendingDeadline(b Booking) time.Time {
	return b.CreatedAt.Add(s.pendingFor())
}

// pendingFor is how long a booking may stay PENDING.
func (s *Service) pendingFor() time.Duration {
	d := s.CallTimeout
	if d <= 0 {
		d = 15 * time.Second
	}
	return d + PendingMargin
}

// AbandonStale marks ABANDONED the bookings left PENDING past their PendingDeadline:
// their process stopped (or lost its database) between the reserve call and recording
// its answer. Their seats are given back and their cleanup is marked pending, so the
// scan that calls this schedules it next and the provider releases whatever it may
// have reserved. It returns how many.
func (s *Service) AbandonStale(ctx context.Context) (int, error) {
	stale, err := s.Store.Bookings(ctx, Filter{States: []State{Pending}, CreatedBefore: s.now().Add(-s.pendingFor()), Limit: 500})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, b := range stale {
		_, abandoned, err := s.abandonStale(ctx, b.Reference)
		if err != nil {
			return n, err
		}
		if abandoned {
			n++
		}
	}
	return n, nil
}

// abandonStale marks one booking ABANDONED, with its cleanup pending, if it is still
// PENDING; abandoned tells whether it was.
func (s *Service) abandonStale(ctx context.Context, ref string) (b Booking, abandoned bool, err error) {
	b, err = s.Store.ModifyBooking(ctx, ref, func(b *Booking) error {
		if b.State != Pending {
			return nil // finished meanwhile
		}
		b.State, b.CleanupPending, b.UpdatedAt = Abandoned, true, s.now()
		b.Message = "the portal stopped before the provider's answer was recorded"
		abandoned = true
		return nil
	})
	return b, abandoned, err
}

// NotifyClassCancelled adds to the outbox a message to the people of every booking
// that holds a seat on the cancelled class (and a calendar cancellation where the
// class sends schedule information).
func (s *Service) NotifyClassCancelled(ctx context.Context, c catalog.Class) error {
	return s.notifyClass(ctx, c, []State{Reserved, Pending}, func(m Messages, b Booking, course catalog.Course, p catalog.Provider) []Notification {
		return m.ClassCancelled(b, c, course, p)
	})
}

// NotifyClassRestored adds to the outbox a message to the people of every booking
// that the class's cancellation told (with the calendar entry sent again).
func (s *Service) NotifyClassRestored(ctx context.Context, c catalog.Class) error {
	return s.notifyClass(ctx, c, []State{Reserved, Pending}, func(m Messages, b Booking, course catalog.Course, p catalog.Provider) []Notification {
		return m.ClassRestored(b, c, course, p)
	})
}

// NotifyClassUpdated adds to the outbox the messages a provider's change of a class
// sends to the people of its reserved bookings when the class's schedule or place
// changed (Messages.ScheduleChanged: the enroller is told, the student's calendar
// invitation updated where the class sends schedule information); a change of price
// or seats alone sends nothing.
func (s *Service) NotifyClassUpdated(ctx context.Context, before, after catalog.Class) error {
	if catalog.SameSchedule(before, after) {
		return nil
	}
	// Only reserved bookings: a pending one has no invitation yet, and gets one with
	// the new schedule if it is reserved.
	return s.notifyClass(ctx, after, []State{Reserved}, func(m Messages, b Booking, course catalog.Course, p catalog.Provider) []Notification {
		return m.ScheduleChanged(b, before, after, course, p)
	})
}

// notifyClass stores the messages compose makes for each booking on c in one of states.
func (s *Service) notifyClass(ctx context.Context, c catalog.Class, states []State, compose func(Messages, Booking, catalog.Course, catalog.Provider) []Notification) error {
	if s.Mail == nil {
		return nil
	}
	bs, err := s.Store.Bookings(ctx, Filter{ClassID: c.ID, States: states})
	if err != nil || len(bs) == 0 {
		return err
	}
	course, err := s.Store.CourseByID(ctx, c.CourseID)
	if err != nil {
		return err
	}
	p, err := s.Store.ProviderByID(ctx, c.ProviderID)
	if err != nil {
		return err
	}
	var ns []Notification
	for _, b := range bs {
		ns = append(ns, compose(s.Mail, b, course, p)...)
	}
	if len(ns) == 0 {
		return nil
	}
	return s.Store.CreateNotifications(ctx, ns)
}
