// Package catalog is the domain of what the marketplace offers: course providers, the
// courses portal staff assign to them, and the dated classes providers publish.
//
// It holds the types, the validation and lifecycle rules, and the Service that applies
// them over a Store. It does no I/O of its own.
package catalog

import (
	"time"
)

// Provider is a course provider's account on the portal.
type Provider struct {
	ID           int64
	Name         string
	Username     string
	PasswordHash string // a slow hash; the password itself is never stored
	ReserveURL   string // the provider's reserve URL (template), called when a seat is booked
	CancelURL    string // the provider's cancel URL (template)
	Secret       string // optional shared secret for signing calls to the provider
	CreatedAt    time.Time
}

// Course is a curriculum, created by portal staff and assigned to one provider, who
// knows it by its own ExternalID (externalCourseId in the API).
type Course struct {
	ID          int64
	ProviderID  int64
	ExternalID  string
	Name        string
	Description string
	CreatedAt   time.Time
}

// Class is a dated run of a course, owned by the provider and identified by the
// provider's ExternalID within the course. Dates and times are local to the venue's
// TimeZone.
type Class struct {
	ID                   int64
	CourseID             int64
	CourseExternalID     string
	ProviderID           int64 // the course's provider, filled by the store
	ExternalID           string
	Location             string
	AvailableSeats       int
	EnrollmentDeadline   Date
	CancellationDeadline Date
	StartDate            Date
	StartTime            *TimeOfDay
	EndDate              Date
	EndTime              *TimeOfDay
	TimeZone             string
	Address              Address
	Price                Money
	SendScheduleInfo     bool
	CancelledAt          *time.Time // set while the class is cancelled
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

// Cancelled reports whether the class is cancelled (and not yet deleted).
func (c *Class) Cancelled() bool { return c.CancelledAt != nil }

// Zone returns the class's time zone; the zone was checked when it was set.
func (c *Class) Zone() *time.Location {
	loc, err := loadZone(c.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// StartsAt is the instant the class starts: its start time (or midnight) on its start
// date in its zone.
func (c *Class) StartsAt() time.Time {
	var t TimeOfDay
	if c.StartTime != nil {
		t = *c.StartTime
	}
	return c.StartDate.At(t, c.Zone())
}

// EnrollmentClosesAt is the first instant after the enrollment deadline: bookings are
// accepted through the whole deadline day, in the class's zone.
func (c *Class) EnrollmentClosesAt() time.Time {
	return endOfDay(c.EnrollmentDeadline, c.Zone())
}

// CancellationClosesAt is the first instant after the cancellation deadline day.
func (c *Class) CancellationClosesAt() time.Time {
	return endOfDay(c.CancellationDeadline, c.Zone())
}

// endOfDay is midnight at the start of the next day; AddDate keeps DST days right.
func endOfDay(d Date, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc).AddDate(0, 0, 1)
}
