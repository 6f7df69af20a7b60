package gateway

import (
	"strings"
	"time"

	"github.com/tportal/tportal/internal/errs"
)

// Status is where a booking stands at the provider.
//
//	HELD ──confirmed by the portal──> CONFIRMED ──attendance──> COMPLETED | NO_SHOW | FAILED
//	  │                                   │
//	  ├──portal says gone / no answer──> RELEASED
//	  └──cancel URL──> CANCELLED <────────┘ (CONFIRMED: until the cancellation deadline)
type Status string

// The statuses of a booking.
const (
	// Held: the reserve URL took a seat; the portal has not yet confirmed the booking.
	Held Status = "HELD"
	// Confirmed: getBookingInformation on the portal answered with the booking.
	Confirmed Status = "CONFIRMED"
	// Released: the portal never had the booking (410, or no answer within the
	// confirmation window); the seat went back.
	Released Status = "RELEASED"
	// Cancelled: the cancel URL cancelled it; the seat went back.
	Cancelled Status = "CANCELLED"
	// Completed: the student attended and passed.
	Completed Status = "COMPLETED"
	// NoShow: the student did not come.
	NoShow Status = "NO_SHOW"
	// Failed: the student attended and did not pass.
	Failed Status = "FAILED"
)

// Statuses lists every status, in lifecycle order.
var Statuses = []Status{Held, Confirmed, Released, Cancelled, Completed, NoShow, Failed}

// HoldsSeat reports whether a booking in s takes one of its class's seats. Only
// bookings that were released or cancelled give their seat back.
func (s Status) HoldsSeat() bool { return s != Released && s != Cancelled }

// IsOutcome reports whether s is an attendance outcome (COMPLETED, NO_SHOW, FAILED).
func (s Status) IsOutcome() bool { return s == Completed || s == NoShow || s == Failed }

// ParseOutcome reads an attendance outcome, in any letter case.
func ParseOutcome(s string) (Status, error) {
	st := Status(strings.ToUpper(strings.TrimSpace(s)))
	if !st.IsOutcome() {
		return "", errs.E(errs.Invalid, "status: %q is not one of COMPLETED, NO_SHOW, FAILED", s)
	}
	return st, nil
}

// Booking is one seat for one student on one class, as the provider keeps it.
type Booking struct {
	// Reference is the provider's booking reference: short, numeric, given by the
	// gateway and answered to the reserve call as bookingReference.
	Reference string
	// PortalReference is the portal's trainingportalBookingReference; unique.
	PortalReference string
	CourseID        string
	ClassID         string
	Status          Status
	Student         Person
	Enroller        Person
	Company         string
	// Note says why a booking was released or refused, for the provider's staff.
	Note string
	// CompletionDate is set with COMPLETED.
	CompletionDate Date

	CreatedAt, UpdatedAt time.Time
}

// ReserveRequest is the portal's reserve call (SPEC §3).
type ReserveRequest struct {
	CourseID        string // externalCourseId; may be empty from an older portal
	ClassID         string // externalCourseClassId
	PortalReference string // trainingportalBookingReference
	Student         Person
	Enroller        Person
	Company         string
}

// Validate checks the fields a reservation cannot do without.
func (r ReserveRequest) Validate() error {
	var p problems
	p.text("externalCourseClassId", r.ClassID, true, maxIDLen)
	p.text("trainingportalBookingReference", r.PortalReference, true, 200)
	if r.CourseID != "" {
		p.text("externalCourseId", r.CourseID, false, maxIDLen)
	}
	// The rest is stored as sent, so it must be text a database accepts.
	for _, f := range []struct{ name, v string }{
		{"studentFirstName", r.Student.FirstName}, {"studentLastName", r.Student.LastName},
		{"studentEmailAddress", r.Student.Email}, {"studentPhoneNumber", r.Student.Phone},
		{"studentBirthDate", r.Student.BirthDate},
		{"enrollerFirstName", r.Enroller.FirstName}, {"enrollerLastName", r.Enroller.LastName},
		{"enrollerEmailAddress", r.Enroller.Email}, {"enrollerPhoneNumber", r.Enroller.Phone},
		{"company", r.Company},
	} {
		p.text(f.name, f.v, false, 200)
	}
	return p.err()
}

// CancelRequest is the portal's cancel call: the provider's reference (absent when the
// portal cleans up a reservation it never recorded) and the portal's.
type CancelRequest struct {
	Reference       string // bookingReference: the provider's
	PortalReference string // trainingportalBookingReference
}

// Validate checks that the request names a booking.
func (r CancelRequest) Validate() error {
	if strings.TrimSpace(r.Reference) == "" && strings.TrimSpace(r.PortalReference) == "" {
		return errs.E(errs.Invalid, "bookingReference or trainingportalBookingReference is required")
	}
	var p problems
	p.text("bookingReference", r.Reference, false, 200)
	p.text("trainingportalBookingReference", r.PortalReference, false, 200)
	return p.err()
}

// Cancel applies the cancel URL to b at now on class c. It is idempotent: a booking
// already cancelled or released stays so, without error. A HELD booking may always be
// cancelled (the portal never confirmed it, so this is its clean-up); a CONFIRMED one
// until the end of the class's cancellation deadline day; one with an attendance
// outcome never.
func (b *Booking) Cancel(c *Class, now time.Time) error {
	switch b.Status {
	case Cancelled, Released:
		return nil
	case Held:
	case Confirmed:
		if !c.CancellationOpen(now) {
			return errs.E(errs.Conflict, "the cancellation deadline of class %s was %s; contact the course provider", c.Key(), c.CancellationDeadline)
		}
	default:
		return errs.E(errs.Conflict, "booking %s is %s; attendance was already recorded", b.Reference, b.Status)
	}
	b.Status = Cancelled
	return nil
}

// Confirm records that the portal answered getBookingInformation with the booking.
// Confirming a CONFIRMED booking, or one with an outcome, changes nothing.
func (b *Booking) Confirm() error {
	switch {
	case b.Status == Held:
		b.Status = Confirmed
	case b.Status == Confirmed || b.Status.IsOutcome():
	default:
		return errs.E(errs.Conflict, "booking %s is %s and cannot be confirmed", b.Reference, b.Status)
	}
	return nil
}

// Release gives back the seat of a HELD booking the portal does not have, noting why.
// Releasing a released booking changes nothing; any other status is a Conflict.
func (b *Booking) Release(reason string) error {
	switch b.Status {
	case Released:
		return nil
	case Held:
		b.Status, b.Note = Released, reason
		return nil
	}
	return errs.E(errs.Conflict, "booking %s is %s; only a HELD booking can be released", b.Reference, b.Status)
}

// RecordAttendance sets an attendance outcome on a CONFIRMED booking, or corrects an
// earlier outcome. COMPLETED needs a completion date, not before the class's start date
// and not after today at the venue.
func (b *Booking) RecordAttendance(outcome Status, completion Date, c *Class, now time.Time) error {
	if !outcome.IsOutcome() {
		return errs.E(errs.Invalid, "status: %q is not one of COMPLETED, NO_SHOW, FAILED", outcome)
	}
	if b.Status != Confirmed && !b.Status.IsOutcome() {
		return errs.E(errs.Conflict, "booking %s is %s; attendance is recorded on CONFIRMED bookings", b.Reference, b.Status)
	}
	if outcome != Completed {
		b.Status, b.CompletionDate = outcome, ""
		return nil
	}
	today := Date(now.In(c.Zone()).Format(time.DateOnly))
	switch {
	case completion == "":
		return errs.E(errs.Invalid, "date: required for COMPLETED")
	case completion < c.StartDate:
		return errs.E(errs.Invalid, "date: %s is before the class starts on %s", completion, c.StartDate)
	case completion > today:
		return errs.E(errs.Invalid, "date: %s is in the future", completion)
	}
	b.Status, b.CompletionDate = Completed, completion
	return nil
}
