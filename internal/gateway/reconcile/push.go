package reconcile

import (
	"context"
	"errors"
	"fmt"

	"github.com/tportal/tportal/internal/gateway"
	"github.com/tportal/tportal/tpclient"
)

// Portal is the part of the portal's course-provider API v1 that the gateway's
// background work calls. *tpclient.Client implements it.
type Portal interface {
	CourseClasses(ctx context.Context, externalCourseID string) ([]tpclient.CourseClass, error)
	AddClass(ctx context.Context, externalCourseID string, c tpclient.CourseClass) (tpclient.CourseClass, error)
	UpdateClass(ctx context.Context, externalCourseID string, u tpclient.ClassUpdate) (tpclient.CourseClass, error)
	CancelClass(ctx context.Context, externalCourseID, externalClassID string) error
	RestoreClass(ctx context.Context, externalCourseID, externalClassID string) error
	BookingInformation(ctx context.Context, bookingReference string) (tpclient.BookingInformation, error)
	UpdateBookingStatus(ctx context.Context, bookingReference string, status tpclient.BookingStatus, completionDate string) error
	UploadDocumentation(ctx context.Context, bookingReference string, doc tpclient.Document) (tpclient.UploadResult, error)
}

var _ Portal = (*tpclient.Client)(nil)

// ToPortal is the class as the portal's API describes it. The portal's
// availableSeats is the gateway's free seats: the seats no booking holds.
func ToPortal(c gateway.Class) tpclient.CourseClass {
	send := c.SendScheduleInfo
	return tpclient.CourseClass{
		ExternalID:           c.ID,
		CourseExternalID:     c.CourseID,
		Location:             c.Location,
		AvailableSeats:       c.FreeSeats,
		EnrollmentDeadline:   string(c.EnrollmentDeadline),
		CancellationDeadline: string(c.CancellationDeadline),
		StartDate:            string(c.StartDate),
		StartTime:            string(c.StartTime),
		EndDate:              string(c.EndDate),
		EndTime:              string(c.EndTime),
		Address: tpclient.Address{
			AddressLine1: c.Address.Line1, AddressLine2: c.Address.Line2,
			City: c.Address.City, ZipCode: c.Address.ZipCode, Country: c.Address.Country,
		},
		Price:                          tpclient.Price{Currency: c.Price.Currency, Amount: c.Price.Amount()},
		SendScheduleInfoToParticipants: &send,
		Cancelled:                      c.Cancelled,
		TimeZone:                       c.TimeZone,
	}
}

// fullUpdate is an updateClass that sets every field of the class, so the portal ends
// with the gateway's state whatever it had before. Times are sent only when the class
// has them (the API cannot clear a time).
func fullUpdate(c gateway.Class) tpclient.ClassUpdate {
	w := ToPortal(c)
	u := tpclient.ClassUpdate{
		ExternalID:                     w.ExternalID,
		Location:                       &w.Location,
		AvailableSeats:                 &w.AvailableSeats,
		EnrollmentDeadline:             &w.EnrollmentDeadline,
		CancellationDeadline:           &w.CancellationDeadline,
		StartDate:                      &w.StartDate,
		EndDate:                        &w.EndDate,
		AddressLine1:                   &w.Address.AddressLine1,
		City:                           &w.Address.City,
		ZipCode:                        &w.Address.ZipCode,
		Country:                        &w.Address.Country,
		Currency:                       &w.Price.Currency,
		Amount:                         &w.Price.Amount,
		SendScheduleInfoToParticipants: w.SendScheduleInfoToParticipants,
		TimeZone:                       &w.TimeZone,
	}
	if w.StartTime != "" {
		u.StartTime = &w.StartTime
	}
	if w.EndTime != "" {
		u.EndTime = &w.EndTime
	}
	if w.Address.AddressLine2 != "" {
		u.AddressLine2 = &w.Address.AddressLine2
	}
	return u
}

// Push makes the portal's copy of class c equal to c, whatever the portal had: it
// adds the class if the portal does not know it (or deleted it), restores it if the
// portal has it cancelled, updates every field, or cancels it. Repeating a push is
// harmless, so a retried or doubled push never does damage.
func Push(ctx context.Context, p Portal, c gateway.Class) error {
	if c.Cancelled {
		err := p.CancelClass(ctx, c.CourseID, c.ID)
		switch {
		case err == nil, errors.Is(err, tpclient.ErrConflict): // already cancelled
			return nil
		case errors.Is(err, tpclient.ErrNotFound): // never published, or already deleted
			return nil
		}
		return fmt.Errorf("cancel class %s at the portal: %w", c.Key(), err)
	}
	_, err := p.UpdateClass(ctx, c.CourseID, fullUpdate(c))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, tpclient.ErrNotFound):
		return add(ctx, p, c)
	case errors.Is(err, tpclient.ErrConflict): // cancelled at the portal: restore first
		err := p.RestoreClass(ctx, c.CourseID, c.ID)
		switch {
		case errors.Is(err, tpclient.ErrNotFound): // deleted meanwhile
			return add(ctx, p, c)
		case err != nil && !errors.Is(err, tpclient.ErrConflict):
			return fmt.Errorf("restore class %s at the portal: %w", c.Key(), err)
		}
		if _, err := p.UpdateClass(ctx, c.CourseID, fullUpdate(c)); err != nil {
			return fmt.Errorf("update class %s at the portal: %w", c.Key(), err)
		}
		return nil
	}
	return fmt.Errorf("update class %s at the portal: %w", c.Key(), err)
}

func add(ctx context.Context, p Portal, c gateway.Class) error {
	_, err := p.AddClass(ctx, c.CourseID, ToPortal(c))
	if errors.Is(err, tpclient.ErrConflict) { // added by a concurrent push: update it
		_, err = p.UpdateClass(ctx, c.CourseID, fullUpdate(c))
	}
	if err != nil {
		return fmt.Errorf("add class %s at the portal: %w", c.Key(), err)
	}
	return nil
}
