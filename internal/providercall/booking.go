package providercall

import (
	"context"
	"errors"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
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

// Reserve implements booking.Caller.
func (c BookingCaller) Reserve(ctx context.Context, p catalog.Provider, b booking.Booking) (booking.ReserveAnswer, error) {
	ans, err := c.Client.Reserve(ctx, TargetOf(p), ReserveRequest{
		ExternalCourseClassID: b.ClassExternalID, BookingReference: b.Reference,
		Student: person(b.Student), StudentBirthDate: b.StudentBirthDate, Enroller: person(b.Enroller), Company: b.Company,
	})
	if err != nil {
		return booking.ReserveAnswer{}, errors.New(Reason(err))
	}
	return booking.ReserveAnswer{Successful: ans.Successful, ProviderReference: ans.ProviderBookingReference, ErrorMessage: ans.ErrorMessage}, nil
}

// Cancel implements booking.Caller.
func (c BookingCaller) Cancel(ctx context.Context, p catalog.Provider, b booking.Booking) (booking.CancelAnswer, error) {
	ans, err := c.Client.Cancel(ctx, TargetOf(p), CancelRequest{ProviderBookingReference: b.ProviderReference, BookingReference: b.Reference})
	if err != nil {
		return booking.CancelAnswer{}, errors.New(Reason(err))
	}
	return booking.CancelAnswer{Cancelled: ans.Cancelled, ErrorMessage: ans.ErrorMessage}, nil
}
