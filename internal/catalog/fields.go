package catalog

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tportal/tportal/internal/errs"
)

// ClassFields are the course-class fields as a caller sent them: raw text, nil when
// not sent. Field errors name the API's parameter names, so every adapter that reads
// a class (API v1, the provider gateway) gets the same rules and the same messages.
type ClassFields struct {
	ExternalID           *string
	Location             *string
	AvailableSeats       *string
	EnrollmentDeadline   *string
	CancellationDeadline *string
	StartDate            *string
	StartTime            *string
	EndDate              *string
	EndTime              *string
	AddressLine1         *string
	AddressLine2         *string
	City                 *string
	ZipCode              *string
	Country              *string
	Currency             *string
	Amount               *string
	SendScheduleInfo     *string
	TimeZone             *string
}

// fieldErrors collects every problem with one input, so a caller fixes them in one go.
type fieldErrors []string

func (fe *fieldErrors) add(field, format string, args ...any) {
	*fe = append(*fe, field+": "+fmt.Sprintf(format, args...))
}

func (fe fieldErrors) err() error {
	if len(fe) == 0 {
		return nil
	}
	return errs.E(errs.Invalid, "%s", strings.Join(fe, "; "))
}

// maxText bounds free-text fields; longer input is a mistake, not a course.
const maxText = 500

// NewClass builds a class of course from the fields of an addClass call. Every field is
// required except startTime, endTime, address.addressLine2, sendScheduleInfoToParticipants
// (default true) and timeZone (default defaultZone).
func NewClass(course Course, f ClassFields, defaultZone string) (Class, error) {
	c := Class{
		CourseID:         course.ID,
		CourseExternalID: course.ExternalID,
		ProviderID:       course.ProviderID,
		TimeZone:         defaultZone,
		SendScheduleInfo: true,
	}
	var fe fieldErrors
	required := []struct {
		name string
		v    **string
	}{
		{"externalId", &f.ExternalID}, {"location", &f.Location}, {"availableSeats", &f.AvailableSeats},
		{"enrollmentDeadline", &f.EnrollmentDeadline}, {"cancellationDeadline", &f.CancellationDeadline},
		{"startDate", &f.StartDate}, {"endDate", &f.EndDate},
		{"address.addressLine1", &f.AddressLine1}, {"address.city", &f.City},
		{"address.zipCode", &f.ZipCode}, {"address.country", &f.Country},
		{"price.currency", &f.Currency}, {"price.amount", &f.Amount},
	}
	for _, r := range required {
		if *r.v == nil || strings.TrimSpace(**r.v) == "" {
			fe.add(r.name, "is required")
			*r.v = nil // reported once, as missing
		}
	}
	// Format errors are reported together with missing fields; the rules across
	// fields need every field, so they run only once the input is complete.
	fe = append(fe, c.parse(f)...)
	if len(fe) > 0 {
		return Class{}, fe.err()
	}
	if err := c.validate(); err != nil {
		return Class{}, err
	}
	return c, nil
}

// Apply changes the fields that were sent (an updateClass call) and checks the result.
// The external id identifies the class and is not changed.
func (c *Class) Apply(f ClassFields) error {
	f.ExternalID = nil
	next := *c
	if fe := next.parse(f); len(fe) > 0 {
		return fe.err()
	}
	if err := next.validate(); err != nil {
		return err
	}
	*c = next
	return nil
}

// parse sets the fields that were sent and returns the problems with their values.
func (c *Class) parse(f ClassFields) fieldErrors {
	var fe fieldErrors
	text := func(name string, v *string, dst *string, optional bool) {
		if v == nil {
			return
		}
		s := strings.TrimSpace(*v)
		switch {
		case s == "" && !optional:
			fe.add(name, "must not be empty")
		case TooLong(s, maxText) != "":
			fe.add(name, "%s", TooLong(s, maxText))
		default:
			*dst = s
		}
	}
	date := func(name string, v *string, dst *Date) {
		if v == nil {
			return
		}
		d, err := ParseDate(*v) // the window is checked by CheckDateWindow
		if err != nil {
			fe.add(name, "%v", err)
			return
		}
		*dst = d
	}
	clock := func(name string, v *string, dst **TimeOfDay) {
		if v == nil {
			return
		}
		if strings.TrimSpace(*v) == "" { // an empty optional time clears it
			*dst = nil
			return
		}
		t, err := ParseTimeOfDay(*v)
		if err != nil {
			fe.add(name, "%v", err)
			return
		}
		*dst = &t
	}

	text("externalId", f.ExternalID, &c.ExternalID, false)
	text("location", f.Location, &c.Location, false)
	if f.AvailableSeats != nil {
		n, err := strconv.Atoi(strings.TrimSpace(*f.AvailableSeats))
		switch {
		case err != nil:
			fe.add("availableSeats", "%q is not a whole number", *f.AvailableSeats)
		case n < 0:
			fe.add("availableSeats", "must be zero or a positive number, got %d", n)
		case n > 100000:
			fe.add("availableSeats", "%d is more seats than any class has", n)
		default:
			c.AvailableSeats = n
		}
	}
	date("enrollmentDeadline", f.EnrollmentDeadline, &c.EnrollmentDeadline)
	date("cancellationDeadline", f.CancellationDeadline, &c.CancellationDeadline)
	date("startDate", f.StartDate, &c.StartDate)
	date("endDate", f.EndDate, &c.EndDate)
	clock("startTime", f.StartTime, &c.StartTime)
	clock("endTime", f.EndTime, &c.EndTime)
	text("address.addressLine1", f.AddressLine1, &c.Address.Line1, false)
	text("address.addressLine2", f.AddressLine2, &c.Address.Line2, true)
	text("address.city", f.City, &c.Address.City, false)
	text("address.zipCode", f.ZipCode, &c.Address.ZipCode, false)
	text("address.country", f.Country, &c.Address.Country, false)
	if f.Currency != nil {
		cur, err := ParseCurrency(*f.Currency)
		if err != nil {
			fe.add("price.currency", "%v", err)
		} else {
			c.Price.Currency = cur
		}
	}
	if f.Amount != nil {
		m, err := ParseAmount(*f.Amount)
		if err != nil {
			fe.add("price.amount", "%v", err)
		} else {
			c.Price.Minor = m
		}
	}
	if f.SendScheduleInfo != nil {
		b, err := ParseBool(*f.SendScheduleInfo)
		if err != nil {
			fe.add("sendScheduleInfoToParticipants", "%v", err)
		} else {
			c.SendScheduleInfo = b
		}
	}
	if f.TimeZone != nil && strings.TrimSpace(*f.TimeZone) != "" {
		z := strings.TrimSpace(*f.TimeZone)
		if _, err := loadZone(z); err != nil || z == "Local" {
			fe.add("timeZone", "%q is not an IANA time zone such as Europe/Oslo", z)
		} else {
			c.TimeZone = z
		}
	}
	return fe
}

// validate checks the rules that span fields.
func (c *Class) validate() error {
	var fe fieldErrors
	switch cmp := c.EndDate.Compare(c.StartDate); {
	case cmp < 0:
		fe.add("endDate", "%s is before startDate %s", c.EndDate, c.StartDate)
	case cmp == 0 && c.StartTime != nil && c.EndTime != nil && c.EndTime.seconds() <= c.StartTime.seconds():
		fe.add("endTime", "%s is not after startTime %s on the same day", c.EndTime, c.StartTime)
	}
	if c.EnrollmentDeadline.Compare(c.StartDate) > 0 {
		fe.add("enrollmentDeadline", "%s is after startDate %s", c.EnrollmentDeadline, c.StartDate)
	}
	if c.CancellationDeadline.Compare(c.StartDate) > 0 {
		fe.add("cancellationDeadline", "%s is after startDate %s", c.CancellationDeadline, c.StartDate)
	}
	return fe.err()
}

// ClassDatesFrom is the earliest date a class's dates may carry (SPEC §2).
var ClassDatesFrom = Date{2000, time.January, 1}

// ClassYearsAhead is how far ahead of today a class's dates may reach (SPEC §2).
const ClassYearsAhead = 10

// CheckDateWindow checks that the class's dates lie in the sane window: not before
// ClassDatesFrom, not more than ClassYearsAhead years after today.
func (c Class) CheckDateWindow(today Date) error {
	last := today.AddYears(ClassYearsAhead)
	var fe fieldErrors
	for _, d := range []struct {
		name string
		date Date
	}{
		{"startDate", c.StartDate}, {"endDate", c.EndDate},
		{"enrollmentDeadline", c.EnrollmentDeadline}, {"cancellationDeadline", c.CancellationDeadline},
	} {
		switch {
		case d.date.IsZero():
		case d.date.Compare(ClassDatesFrom) < 0:
			fe.add(d.name, "%s is before %s", d.date, ClassDatesFrom)
		case d.date.Compare(last) > 0:
			fe.add(d.name, "%s is more than %d years ahead (after %s)", d.date, ClassYearsAhead, last)
		}
	}
	return fe.err()
}

// ParseBool reads the booleans callers send: true/false, 1/0, yes/no, in any case.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes", "on":
		return true, nil
	case "false", "0", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", s)
}
