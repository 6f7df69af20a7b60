package providercall

import (
	"context"
	"errors"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
)

// BookingCaller adapts a Client to the booking engine's Caller interface.
type BookingCaller struct {
	Client *Client
}

var _ booking.Caller = BookingCaller{}

// TargetOf returns where and how to call the provider.
func TargetOf(p catalog.Provider) Target {
	t := Target{ProviderID: p.ID, ProviderName: p.Name, ReserveURL: p.ReserveURL, CancelURL: p.CancelURL}
	if p.Secret != "" {
		t.Secret = []byte(p.Secret)
	}
	return t
}

func person(p booking.Person) Person {
	return Person{FirstName: p.FirstName, LastName: p.LastName, Email: p.Email, Phone: p.Phone}
}

// Reserve implements booking.Caller. The call's journal entries are not written here
// but returned in the answer's Journal (a []Call), for the booking engine to hand to
// the store with the answer (booking.Store.RecordReserveAnswer), so that the answer
// and its journal entry take one commit. A Client without a Journal returns none.
func (c BookingCaller) Reserve(ctx context.Context, p catalog.Provider, b booking.Booking) (booking.ReserveAnswer, error) {
	ctx, journal := deferJournal(ctx)
	ans, err := c.Client.Reserve(ctx, TargetOf(p), ReserveRequest{
		ExternalCourseClassID: b.ClassExternalID, ExternalCourseID: b.CourseExternalID, BookingReference: b.Reference,
		Student: person(b.Student), StudentBirthDate: b.StudentBirthDate, Enroller: person(b.Enroller), Company: b.Company,
	})
	var calls any
	if len(journal.calls) > 0 {
		calls = journal.calls
	}
	if err != nil {
		return booking.ReserveAnswer{Journal: calls}, callError(err)
	}
	return booking.ReserveAnswer{Successful: ans.Successful, ProviderReference: ans.ProviderBookingReference,
		ErrorMessage: ans.ErrorMessage, Journal: calls}, nil
}

// Cancel implements booking.Caller.
func (c BookingCaller) Cancel(ctx context.Context, p catalog.Provider, b booking.Booking) (booking.CancelAnswer, error) {
	ans, err := c.Client.Cancel(ctx, TargetOf(p), CancelRequest{ProviderBookingReference: b.ProviderReference, BookingReference: b.Reference})
	if err != nil {
		return booking.CancelAnswer{}, callError(err)
	}
	return booking.CancelAnswer{Cancelled: ans.Cancelled, ErrorMessage: ans.ErrorMessage}, nil
}

// callError is a failed call as the booking engine sees it: a call that could not
// even be made (a refused address, a URL the booking cannot fill in) is errs.Invalid,
// since retrying it cannot help; any other failure may pass.
func callError(err error) error {
	var ce *CallError
	if errors.As(err, &ce) && ce.Refused {
		return errs.E(errs.Invalid, "%s", ce.Reason)
	}
	return errors.New(Reason(err))
}
