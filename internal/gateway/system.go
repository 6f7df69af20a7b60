package gateway

import (
	"context"
	"strings"
	"time"

	"github.com/tportal/tportal/internal/errs"
)

// BookingSystem is the seam where a provider's own booking system plugs into the
// gateway. The gateway's reserve and cancel URLs and its background work (confirming
// bookings with the portal, reconciling the catalogue) need nothing else. Reference is
// the gateway's own implementation; a provider with its own system writes an adapter
// (see the example) and keeps its rules there.
//
// Errors are *errs.Error: NotFound for an unknown class or booking, Conflict for a
// refusal (sold out, enrollment closed, class cancelled, past the cancellation
// deadline), Invalid for a bad request; their messages are shown to the portal's
// enroller. Any other error is logged and answered as an internal error.
type BookingSystem interface {
	// Reserve holds one seat for the request, idempotently on its PortalReference: a
	// repeated request returns the booking made the first time and takes no second seat.
	Reserve(ctx context.Context, r ReserveRequest) (Booking, error)
	// Cancel cancels the booking the request names and gives its seat back. Cancelling a
	// cancelled or released booking returns it unchanged.
	Cancel(ctx context.Context, r CancelRequest) (Booking, error)
	// Confirm records that the portal confirmed the booking with this provider Reference.
	Confirm(ctx context.Context, reference string) (Booking, error)
	// Release gives back the seat of a booking the portal does not have, noting why.
	Release(ctx context.Context, reference, reason string) (Booking, error)
	// Booking returns the booking with this provider Reference.
	Booking(ctx context.Context, reference string) (Booking, error)
	// Classes returns every class of every course, cancelled ones included.
	Classes(ctx context.Context) ([]Class, error)
}

// BookingKey names a booking by the provider's reference, the portal's, or both (then
// both must match the same booking).
type BookingKey struct {
	Reference       string
	PortalReference string
}

// BookingFilter selects bookings; empty fields select all.
type BookingFilter struct {
	CourseID string
	ClassID  string
	Statuses []Status
}

// Store keeps the reference booking system's data. Package gwstore implements it on
// SQLite and PostgreSQL. Every method returns *errs.Error: NotFound for a missing
// thing (never a nil result), Conflict for a duplicate, Internal for the rest. The
// methods that change a class or a booking also tell the store's change queue, in the
// same transaction, so that the change reaches the portal even after a crash.
type Store interface {
	// CreateCourse stores a new course; Conflict if its ExternalID exists.
	CreateCourse(ctx context.Context, c Course) (Course, error)
	// Course returns the course with this ExternalID.
	Course(ctx context.Context, externalID string) (Course, error)
	// Courses returns every course, by ExternalID.
	Courses(ctx context.Context) ([]Course, error)

	// CreateClass stores a new class; NotFound if its course is unknown, Conflict if
	// the course has a class with its ID.
	CreateClass(ctx context.Context, c Class) (Class, error)
	// ModifyClass reads the class under a lock, hands it to fn and, when fn returns
	// nil, writes back what fn left, all in one transaction. fn must not change the
	// class's keys or FreeSeats other than through ClassFields.Apply.
	ModifyClass(ctx context.Context, courseID, classID string, fn func(*Class) error) (Class, error)
	// Class returns one class.
	Class(ctx context.Context, courseID, classID string) (Class, error)
	// ClassesWithID returns the classes, of any course, whose ID is classID.
	ClassesWithID(ctx context.Context, classID string) ([]Class, error)
	// Classes returns the classes of a course, or of every course when courseID is "",
	// ordered by course, start date and ID.
	Classes(ctx context.Context, courseID string) ([]Class, error)

	// HoldSeat holds one seat for r in one transaction that locks the class
	// r.CourseID/r.ClassID: if a booking with r.PortalReference exists it returns it
	// with created false and changes nothing; otherwise it calls check with the locked
	// class and, when check returns nil, takes one free seat (never below zero) and
	// stores a HELD booking with a new Reference.
	HoldSeat(ctx context.Context, r ReserveRequest, check func(*Class) error) (b Booking, created bool, err error)
	// ModifyBooking reads the booking and its class under a lock, hands them to fn and,
	// when fn returns nil, writes back the booking's Status, Note, CompletionDate,
	// Student, Enroller and Company.
	// When the status moves into or out of one that holds a seat, the class's free
	// seats move with it, in the same transaction.
	ModifyBooking(ctx context.Context, key BookingKey, fn func(*Booking, *Class) error) (Booking, error)
	// Booking returns the booking the key names.
	Booking(ctx context.Context, key BookingKey) (Booking, error)
	// Bookings returns the bookings the filter selects, oldest first.
	Bookings(ctx context.Context, f BookingFilter) ([]Booking, error)
}

// Reference is the gateway's reference booking system: the rules of this package on a
// Store. It implements BookingSystem, and manages the catalogue for the command line.
type Reference struct {
	Store Store
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

var _ BookingSystem = (*Reference)(nil)

// NewReference returns the reference booking system on s.
func NewReference(s Store) *Reference { return &Reference{Store: s} }

func (r *Reference) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Reserve implements BookingSystem. Without a CourseID the class is looked up by its
// ID alone, which must then be unique among the provider's courses.
func (r *Reference) Reserve(ctx context.Context, req ReserveRequest) (Booking, error) {
	req.CourseID, req.ClassID, req.PortalReference = strings.TrimSpace(req.CourseID), strings.TrimSpace(req.ClassID), strings.TrimSpace(req.PortalReference)
	if err := req.Validate(); err != nil {
		return Booking{}, err
	}
	if req.CourseID == "" {
		courseID, err := r.courseOfClass(ctx, req.ClassID)
		if err != nil {
			return Booking{}, err
		}
		req.CourseID = courseID
	}
	now := r.now()
	b, created, err := r.Store.HoldSeat(ctx, req, func(c *Class) error { return c.CheckReservable(now) })
	switch {
	case errs.Is(err, errs.NotFound):
		return Booking{}, errs.E(errs.NotFound, "unknown class %s in course %s", req.ClassID, req.CourseID)
	case err != nil:
		return Booking{}, err
	case created:
		return b, nil
	case b.CourseID != req.CourseID || b.ClassID != req.ClassID:
		return Booking{}, errs.E(errs.Conflict, "trainingportalBookingReference %s is already booking %s on class %s/%s", req.PortalReference, b.Reference, b.CourseID, b.ClassID)
	case !b.Status.HoldsSeat():
		return b, errs.E(errs.Conflict, "booking %s for trainingportalBookingReference %s was %s", b.Reference, req.PortalReference, strings.ToLower(string(b.Status)))
	}
	return b, nil
}

func (r *Reference) courseOfClass(ctx context.Context, classID string) (string, error) {
	classes, err := r.Store.ClassesWithID(ctx, classID)
	if err != nil {
		return "", err
	}
	switch len(classes) {
	case 0:
		return "", errs.E(errs.NotFound, "unknown class %s", classID)
	case 1:
		return classes[0].CourseID, nil
	}
	courses := make([]string, len(classes))
	for i, c := range classes {
		courses[i] = c.CourseID
	}
	return "", errs.E(errs.Invalid, "externalCourseId: required, class %s exists in courses %s", classID, strings.Join(courses, ", "))
}

// Cancel implements BookingSystem (see Booking.Cancel for the rules). A clean-up call
// that names only a PortalReference the gateway never booked is answered with an
// empty Booking and no error: nothing is held, which is what the portal asks.
func (r *Reference) Cancel(ctx context.Context, req CancelRequest) (Booking, error) {
	key := BookingKey{Reference: strings.TrimSpace(req.Reference), PortalReference: strings.TrimSpace(req.PortalReference)}
	if err := req.Validate(); err != nil {
		return Booking{}, err
	}
	now := r.now()
	b, err := r.Store.ModifyBooking(ctx, key, func(b *Booking, c *Class) error { return b.Cancel(c, now) })
	if errs.Is(err, errs.NotFound) {
		if key.Reference == "" {
			return Booking{}, nil
		}
		return Booking{}, errs.E(errs.NotFound, "no booking %s%s", key.Reference, portalRefSuffix(key.PortalReference))
	}
	return b, err
}

func portalRefSuffix(ref string) string {
	if ref == "" {
		return ""
	}
	return " with trainingportalBookingReference " + ref
}

// Confirm implements BookingSystem.
func (r *Reference) Confirm(ctx context.Context, reference string) (Booking, error) {
	return r.modify(ctx, reference, func(b *Booking, _ *Class) error { return b.Confirm() })
}

// Release implements BookingSystem.
func (r *Reference) Release(ctx context.Context, reference, reason string) (Booking, error) {
	return r.modify(ctx, reference, func(b *Booking, _ *Class) error { return b.Release(reason) })
}

// RecordAttendance sets an attendance outcome on the booking with this provider
// reference; see Booking.RecordAttendance.
func (r *Reference) RecordAttendance(ctx context.Context, reference string, outcome Status, completion Date) (Booking, error) {
	now := r.now()
	return r.modify(ctx, reference, func(b *Booking, c *Class) error {
		return b.RecordAttendance(outcome, completion, c, now)
	})
}

func (r *Reference) modify(ctx context.Context, reference string, fn func(*Booking, *Class) error) (Booking, error) {
	b, err := r.Store.ModifyBooking(ctx, BookingKey{Reference: strings.TrimSpace(reference)}, fn)
	if errs.Is(err, errs.NotFound) {
		return Booking{}, errs.E(errs.NotFound, "no booking %s", reference)
	}
	return b, err
}

// Booking implements BookingSystem.
func (r *Reference) Booking(ctx context.Context, reference string) (Booking, error) {
	b, err := r.Store.Booking(ctx, BookingKey{Reference: strings.TrimSpace(reference)})
	if errs.Is(err, errs.NotFound) {
		return Booking{}, errs.E(errs.NotFound, "no booking %s", reference)
	}
	return b, err
}

// Bookings returns the bookings f selects, oldest first.
func (r *Reference) Bookings(ctx context.Context, f BookingFilter) ([]Booking, error) {
	return r.Store.Bookings(ctx, f)
}

// Classes implements BookingSystem.
func (r *Reference) Classes(ctx context.Context) ([]Class, error) { return r.Store.Classes(ctx, "") }

// Class returns one class.
func (r *Reference) Class(ctx context.Context, courseID, classID string) (Class, error) {
	c, err := r.Store.Class(ctx, courseID, classID)
	if errs.Is(err, errs.NotFound) {
		return Class{}, r.classNotFound(ctx, courseID, classID)
	}
	return c, err
}

func (r *Reference) classNotFound(ctx context.Context, courseID, classID string) error {
	if _, err := r.Store.Course(ctx, courseID); errs.Is(err, errs.NotFound) {
		return errs.E(errs.NotFound, "unknown course %s; add it with: tportal provider course add --external-id %s --name …", courseID, courseID)
	}
	return errs.E(errs.NotFound, "unknown class %s in course %s", classID, courseID)
}

// AddCourse adds a course.
func (r *Reference) AddCourse(ctx context.Context, externalID, name string) (Course, error) {
	c, err := NewCourse(externalID, name)
	if err != nil {
		return Course{}, err
	}
	c.CreatedAt = r.now()
	c, err = r.Store.CreateCourse(ctx, c)
	if errs.Is(err, errs.Conflict) {
		return Course{}, errs.E(errs.Conflict, "course %s already exists", externalID)
	}
	return c, err
}

// AddClass adds a class to a course; see NewClass.
func (r *Reference) AddClass(ctx context.Context, courseID, classID string, f ClassFields) (Class, error) {
	now := r.now()
	c, err := NewClass(strings.TrimSpace(courseID), classID, f, now)
	if err != nil {
		return Class{}, err
	}
	c.CreatedAt, c.UpdatedAt = now, now
	c, err = r.Store.CreateClass(ctx, c)
	switch {
	case errs.Is(err, errs.NotFound):
		return Class{}, r.classNotFound(ctx, courseID, classID)
	case errs.Is(err, errs.Conflict):
		return Class{}, errs.E(errs.Conflict, "class %s already exists in course %s; change it with class update", classID, courseID)
	}
	return c, err
}

// UpdateClass changes the fields given in f. A cancelled class must be restored first.
func (r *Reference) UpdateClass(ctx context.Context, courseID, classID string, f ClassFields) (Class, error) {
	now := r.now()
	return r.modifyClass(ctx, courseID, classID, func(c *Class) error {
		if c.Cancelled {
			return errs.E(errs.Conflict, "class %s is cancelled; restore it first", c.Key())
		}
		if err := f.Apply(c, now); err != nil {
			return err
		}
		c.UpdatedAt = now
		return nil
	})
}

// CancelClass cancels a class: it takes no more bookings. Its bookings stay as they are.
func (r *Reference) CancelClass(ctx context.Context, courseID, classID string) (Class, error) {
	now := r.now()
	return r.modifyClass(ctx, courseID, classID, func(c *Class) error {
		if c.Cancelled {
			return errs.E(errs.Conflict, "class %s is already cancelled", c.Key())
		}
		c.Cancelled, c.UpdatedAt = true, now
		return nil
	})
}

// RestoreClass publishes a cancelled class again.
func (r *Reference) RestoreClass(ctx context.Context, courseID, classID string) (Class, error) {
	now := r.now()
	return r.modifyClass(ctx, courseID, classID, func(c *Class) error {
		if !c.Cancelled {
			return errs.E(errs.Conflict, "class %s is not cancelled", c.Key())
		}
		c.Cancelled, c.UpdatedAt = false, now
		return nil
	})
}

func (r *Reference) modifyClass(ctx context.Context, courseID, classID string, fn func(*Class) error) (Class, error) {
	c, err := r.Store.ModifyClass(ctx, strings.TrimSpace(courseID), strings.TrimSpace(classID), fn)
	if errs.Is(err, errs.NotFound) { // fn never returns NotFound: the class is missing
		return Class{}, r.classNotFound(ctx, courseID, classID)
	}
	return c, err
}
