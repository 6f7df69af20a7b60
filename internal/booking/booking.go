// Package booking is the domain of seats booked on course classes: the booking states
// and their transitions, the seat rules, and the Service that books and cancels through
// the provider's reserve and cancel URLs. It does no I/O of its own: storage and the
// calls to providers come through the Store and Caller interfaces it owns.
package booking

import (
	"crypto/rand"
	"encoding/hex"
	"net/mail"
	"strings"
	"time"

	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
)

// State is where a booking is in its life.
type State string

// The states (SPEC §4).
const (
	Pending   State = "PENDING"   // stored; the reserve call is in flight
	Reserved  State = "RESERVED"  // the provider said successful; enrollmentStatus NEW
	Completed State = "COMPLETED" // reported by the provider
	NoShow    State = "NO_SHOW"   // reported by the provider
	Failed    State = "FAILED"    // reported by the provider
	Cancelled State = "CANCELLED" // the provider's cancel URL said cancelled
	Rejected  State = "REJECTED"  // the provider said not successful
	Abandoned State = "ABANDONED" // no usable answer from the provider; cleaned up in the background
)

// States lists every state, for metrics and filters.
var States = []State{Pending, Reserved, Completed, NoShow, Failed, Cancelled, Rejected, Abandoned}

// HoldsSeat reports whether a booking in state s occupies one of the class's seats.
// The storage layer adjusts availableSeats by the change of this value, so the seat
// count follows every transition in the same transaction.
func (s State) HoldsSeat() bool {
	switch s {
	case Pending, Reserved, Completed, NoShow, Failed:
		return true
	}
	return false
}

// EnrollmentStatus is the documented enrollmentStatus of a booking in state s.
func (s State) EnrollmentStatus() string {
	if s == Reserved {
		return "NEW"
	}
	return string(s)
}

// Person is a student or an enroller.
type Person struct {
	FirstName, LastName, Email, Phone string
}

// Booking is one student's seat on one class.
type Booking struct {
	ID                  int64
	Reference           string // the portal's booking reference: opaque and unguessable
	ClassID             int64
	ClassExternalID     string // filled by the store
	CourseID            int64  // filled by the store
	CourseExternalID    string // filled by the store: the provider's id of the class's course
	ProviderID          int64  // filled by the store
	Student             Person
	StudentBirthDate    string // yyyy-MM-dd or ""
	Enroller            Person
	Company             string
	Comment             string // commentOnEnrollment
	PurchaseOrderNumber string
	State               State
	ProviderReference   string // the provider's booking reference, once reserved
	Message             string // the last message from the provider, or why a call failed
	CompletionDate      string // yyyy-MM-dd, for COMPLETED
	CleanupPending      bool   // ABANDONED and the provider has not yet acknowledged the cancel
	IdempotencyKey      string // the caller's key for this request, scoped by the caller; "" when none
	CompanyID           int64  // the company that booked (web pages, company API tokens); 0 when none
	CreatedAt           time.Time
	UpdatedAt           time.Time
	// Outbox holds messages a change made through Store.ModifyBooking sends: the store
	// adds them to the outbox in the same transaction as the change, so that a
	// committed change never loses its mail. Not stored with the booking.
	Outbox []Notification
}

// Request is what an enroller asks for.
type Request struct {
	ClassID             int64
	Student             Person
	StudentBirthDate    string
	Enroller            Person
	Company             string
	Comment             string
	PurchaseOrderNumber string
	// IdempotencyKey, when set, makes the request safe to repeat: a second request
	// with the same key gets the booking the first one made. The adapter scopes it by
	// caller (an API token), so callers cannot see each other's bookings through it.
	IdempotencyKey string
	// CompanyID is the company the booking is made for (an enroller signed in on the
	// web pages, or a company's API token); 0 for a portal-wide caller.
	CompanyID int64
}

// sameAs reports whether b was made by a request with r's content, so that reusing
// an idempotency key for a different booking is caught.
func (r Request) sameAs(b Booking) bool {
	return r.ClassID == b.ClassID && r.Student == b.Student && r.StudentBirthDate == b.StudentBirthDate &&
		r.Enroller == b.Enroller && r.Company == b.Company && r.Comment == b.Comment &&
		r.PurchaseOrderNumber == b.PurchaseOrderNumber && r.CompanyID == b.CompanyID
}

// VisibleTo reports whether a caller acting for companyID may see and cancel b. A
// portal-wide caller (companyID 0: staff, staff integrations) sees every booking; a
// company sees only the bookings made for it.
func (b Booking) VisibleTo(companyID int64) bool {
	return companyID == 0 || b.CompanyID == companyID
}

// validate checks a request, naming every bad field.
func (r *Request) validate(today catalog.Date) error {
	var problems []string
	bad := func(field, msg string) { problems = append(problems, field+": "+msg) }
	trim := func(s *string) { *s = strings.TrimSpace(*s) }
	for _, s := range []*string{&r.Student.FirstName, &r.Student.LastName, &r.Student.Email, &r.Student.Phone,
		&r.Enroller.FirstName, &r.Enroller.LastName, &r.Enroller.Email, &r.Enroller.Phone,
		&r.Company, &r.StudentBirthDate, &r.PurchaseOrderNumber} {
		trim(s)
	}
	if r.ClassID <= 0 {
		bad("classId", "is required")
	}
	if r.Student.FirstName == "" {
		bad("student.firstName", "is required")
	}
	if r.Student.LastName == "" {
		bad("student.lastName", "is required")
	}
	if r.Student.Email != "" && !validEmail(r.Student.Email) {
		bad("student.email", "is not an e-mail address")
	}
	if r.Enroller.Email == "" {
		bad("enroller.email", "is required, so the enroller hears about changes")
	} else if !validEmail(r.Enroller.Email) {
		bad("enroller.email", "is not an e-mail address")
	}
	if r.StudentBirthDate != "" {
		d, err := catalog.ParseDateInput(r.StudentBirthDate)
		if err != nil {
			bad("student.birthDate", err.Error())
		} else if d.Compare(today) > 0 {
			bad("student.birthDate", "is in the future")
		}
	}
	if tooLong := catalog.TooLong(r.IdempotencyKey, 300); tooLong != "" {
		bad("Idempotency-Key", tooLong)
	}
	for field, v := range map[string]string{
		"student.firstName": r.Student.FirstName, "student.lastName": r.Student.LastName,
		"company": r.Company, "commentOnEnrollment": r.Comment, "purchaseOrderNumber": r.PurchaseOrderNumber,
	} {
		if tooLong := catalog.TooLong(v, 2000); tooLong != "" {
			bad(field, tooLong)
		}
	}
	if len(problems) > 0 {
		return errs.E(errs.Invalid, "%s", strings.Join(problems, "; "))
	}
	return nil
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

// NewReference returns an unguessable booking reference: 128 random bits, written like
// the public service's references (hex groups joined by underscores).
func NewReference() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	h := hex.EncodeToString(b)
	return h[0:8] + "_" + h[8:12] + "_" + h[12:16] + "_" + h[16:20] + "_" + h[20:32]
}

// TakesBookings checks that the provider p of class c takes bookings through the
// portal: it has registered a reserve URL.
func TakesBookings(p catalog.Provider, c catalog.Class) error {
	if p.ReserveURL == "" {
		return errs.E(errs.Conflict, "the provider of class %q does not take bookings through the portal yet", c.ExternalID)
	}
	return nil
}

// Bookable checks that a class takes a new booking at now: published, before the end
// of its enrollment deadline day, with a seat left.
func Bookable(c catalog.Class, now time.Time) error {
	switch {
	case c.Cancelled():
		return errs.E(errs.Conflict, "class %q is cancelled", c.ExternalID)
	case !now.Before(c.EnrollmentClosesAt()):
		return errs.E(errs.Conflict, "enrollment for class %q closed at the end of %s", c.ExternalID, c.EnrollmentDeadline)
	case c.AvailableSeats <= 0:
		return errs.E(errs.Conflict, "class %q has no seats left", c.ExternalID)
	}
	return nil
}
