package gateway

import (
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tportal/tportal/internal/errs"
)

// Course is a course the provider gives, known to the portal by ExternalID
// (the portal's externalCourseId).
type Course struct {
	ExternalID string
	Name       string
	CreatedAt  time.Time
}

// Class is a dated run of a course: the provider's catalogue entry that the portal
// shows and books seats on. Seats is the capacity the provider set; FreeSeats is what
// is left after the bookings that hold a seat, and is the portal's availableSeats.
type Class struct {
	CourseID string // the course's ExternalID
	ID       string // the class's externalId, unique within its course
	Location string

	Seats     int
	FreeSeats int

	StartDate Date
	StartTime TimeOfDay // "" when not given
	EndDate   Date
	EndTime   TimeOfDay // "" when not given
	TimeZone  string    // IANA name; the dates and times are local to it

	EnrollmentDeadline   Date
	CancellationDeadline Date

	Address          Address
	Price            Price
	SendScheduleInfo bool // the portal's sendScheduleInfoToParticipants
	Cancelled        bool

	CreatedAt, UpdatedAt time.Time
}

// DefaultTimeZone is the zone of a class added without one, as on the portal.
const DefaultTimeZone = "Europe/Oslo"

// Zone returns the class's time zone (UTC if the stored name is unknown, which
// NewClass and Apply never allow).
func (c *Class) Zone() *time.Location {
	if loc, err := loadZone(c.TimeZone); err == nil {
		return loc
	}
	return time.UTC
}

// zones caches loaded time zones: time.LoadLocation reads and parses the zone's data
// on every call, and every reserve call needs its class's zone.
var zones sync.Map // name -> *time.Location

func loadZone(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, loc)
	return loc, nil
}

// Held is the number of seats bookings hold.
func (c *Class) Held() int { return c.Seats - c.FreeSeats }

// Key names the class for messages: "BST/OSL-W40".
func (c *Class) Key() string { return c.CourseID + "/" + c.ID }

// EnrollmentOpen reports whether now is before the end of the enrollment deadline day
// at the venue.
func (c *Class) EnrollmentOpen(now time.Time) bool {
	return now.Before(c.EnrollmentDeadline.EndIn(c.Zone()))
}

// CancellationOpen reports whether now is before the end of the cancellation deadline
// day at the venue.
func (c *Class) CancellationOpen(now time.Time) bool {
	return now.Before(c.CancellationDeadline.EndIn(c.Zone()))
}

// CheckReservable says why a seat on c cannot be held now, as a Conflict with a
// message for the enroller, or returns nil.
func (c *Class) CheckReservable(now time.Time) error {
	switch {
	case c.Cancelled:
		return errs.E(errs.Conflict, "class %s is cancelled", c.Key())
	case !c.EnrollmentOpen(now):
		return errs.E(errs.Conflict, "enrollment for class %s closed on %s", c.Key(), c.EnrollmentDeadline)
	case c.FreeSeats <= 0:
		return errs.E(errs.Conflict, "class %s is sold out", c.Key())
	}
	return nil
}

// NewCourse validates a course.
func NewCourse(externalID, name string) (Course, error) {
	var p problems
	p.text("external-id", externalID, true, maxIDLen)
	p.text("name", name, true, 200)
	if err := p.err(); err != nil {
		return Course{}, err
	}
	return Course{ExternalID: strings.TrimSpace(externalID), Name: strings.TrimSpace(name)}, nil
}

// ClassFields are a class's fields as text, as the command line or an adapter gives
// them; nil means not given. Start and End are a date, optionally with a time:
// 2027-05-10T09:00 or 2027-05-10.
type ClassFields struct {
	Location                                  *string
	Seats                                     *int
	Start, End                                *string
	TimeZone                                  *string
	EnrollmentDeadline, CancellationDeadline  *string
	Amount, Currency                          *string
	AddressLine1, AddressLine2, City, ZipCode *string
	Country                                   *string
	SendScheduleInfo                          *bool
}

// maxIDLen bounds external ids; the portal refuses longer ones.
const maxIDLen = 100

// NewClass validates a new class of course courseID from f. Every field is required
// except the times, AddressLine2, TimeZone (DefaultTimeZone) and SendScheduleInfo
// (true): a class the portal would refuse is refused here first. Its free seats are
// its seats.
func NewClass(courseID, classID string, f ClassFields, now time.Time) (Class, error) {
	var p problems
	p.text("external-id", classID, true, maxIDLen)
	for _, req := range []struct {
		name string
		set  bool
	}{
		{"location", f.Location != nil}, {"seats", f.Seats != nil}, {"start", f.Start != nil}, {"end", f.End != nil},
		{"enrollment-deadline", f.EnrollmentDeadline != nil}, {"cancellation-deadline", f.CancellationDeadline != nil},
		{"price", f.Amount != nil}, {"currency", f.Currency != nil}, {"address", f.AddressLine1 != nil},
		{"city", f.City != nil}, {"zip", f.ZipCode != nil}, {"country", f.Country != nil},
	} {
		if !req.set {
			p.add(req.name, "is required")
		}
	}
	if err := p.err(); err != nil {
		return Class{}, err
	}
	c := Class{CourseID: courseID, ID: strings.TrimSpace(classID), TimeZone: DefaultTimeZone, SendScheduleInfo: true}
	if err := f.Apply(&c, now); err != nil {
		return Class{}, err
	}
	return c, nil
}

// Apply changes c by the fields given in f, then checks the rules that span fields:
// the end not before the start, the deadlines not after the start date, dates within
// 2000 and ten years from now, and never fewer seats than bookings hold. On error c is
// unchanged and the message lists every bad field.
func (f ClassFields) Apply(c *Class, now time.Time) error {
	next := *c
	var p problems
	if f.Location != nil {
		next.Location = strings.TrimSpace(*f.Location)
		p.text("location", *f.Location, true, 200)
	}
	if f.Seats != nil {
		switch held := c.Held(); {
		case *f.Seats < 0:
			p.add("seats", "must be 0 or more")
		case *f.Seats < held:
			p.add("seats", fmt.Sprintf("%d seats are booked; the class cannot have fewer", held))
		default:
			next.Seats, next.FreeSeats = *f.Seats, *f.Seats-held
		}
	}
	if f.Start != nil {
		next.StartDate, next.StartTime = p.dateTime("start", *f.Start)
	}
	if f.End != nil {
		next.EndDate, next.EndTime = p.dateTime("end", *f.End)
	}
	if f.TimeZone != nil {
		tz := strings.TrimSpace(*f.TimeZone)
		if _, err := loadZone(tz); err != nil || tz == "" || tz == "Local" {
			p.add("time-zone", fmt.Sprintf("%q is not an IANA time zone such as Europe/Oslo", *f.TimeZone))
		}
		next.TimeZone = tz
	}
	if f.EnrollmentDeadline != nil {
		next.EnrollmentDeadline = p.date("enrollment-deadline", *f.EnrollmentDeadline)
	}
	if f.CancellationDeadline != nil {
		next.CancellationDeadline = p.date("cancellation-deadline", *f.CancellationDeadline)
	}
	if f.Amount != nil || f.Currency != nil {
		amount, currency := next.Price.Amount(), next.Price.Currency
		if f.Amount != nil {
			amount = *f.Amount
		}
		if f.Currency != nil {
			currency = *f.Currency
		}
		price, err := ParsePrice(amount, currency)
		if err != nil {
			p.add("price", err.Error())
		}
		next.Price = price
	}
	for _, t := range []struct {
		name     string
		in       *string
		out      *string
		required bool
		max      int
	}{
		{"address", f.AddressLine1, &next.Address.Line1, true, 200},
		{"address2", f.AddressLine2, &next.Address.Line2, false, 200},
		{"city", f.City, &next.Address.City, true, 100},
		{"zip", f.ZipCode, &next.Address.ZipCode, true, 20},
		{"country", f.Country, &next.Address.Country, true, 100},
	} {
		if t.in != nil {
			p.text(t.name, *t.in, t.required, t.max)
			*t.out = strings.TrimSpace(*t.in)
		}
	}
	if f.SendScheduleInfo != nil {
		next.SendScheduleInfo = *f.SendScheduleInfo
	}
	if err := p.err(); err != nil {
		return err
	}
	next.checkDates(&p, now)
	if err := p.err(); err != nil {
		return err
	}
	*c = next
	return nil
}

func (c *Class) checkDates(p *problems, now time.Time) {
	earliest, latest := Date("2000-01-01"), Date(now.AddDate(10, 0, 0).Format(time.DateOnly))
	for _, d := range []struct {
		name string
		d    Date
	}{{"start", c.StartDate}, {"end", c.EndDate}, {"enrollment-deadline", c.EnrollmentDeadline}, {"cancellation-deadline", c.CancellationDeadline}} {
		if d.d < earliest || d.d > latest {
			p.add(d.name, fmt.Sprintf("%s is outside 2000-01-01 … %s", d.d, latest))
		}
	}
	switch {
	case c.EndDate < c.StartDate:
		p.add("end", fmt.Sprintf("%s is before the start %s", c.EndDate, c.StartDate))
	case c.EndDate == c.StartDate && c.StartTime != "" && c.EndTime != "" &&
		!c.EndDate.At(c.EndTime, time.UTC).After(c.StartDate.At(c.StartTime, time.UTC)):
		p.add("end", fmt.Sprintf("%s is not after the start time %s on the same day", c.EndTime, c.StartTime))
	}
	if c.EnrollmentDeadline > c.StartDate {
		p.add("enrollment-deadline", fmt.Sprintf("%s is after the start date %s", c.EnrollmentDeadline, c.StartDate))
	}
	if c.CancellationDeadline > c.StartDate {
		p.add("cancellation-deadline", fmt.Sprintf("%s is after the start date %s", c.CancellationDeadline, c.StartDate))
	}
}

// problems collects "field: problem" lines into one Invalid error.
type problems []string

func (p *problems) add(field, problem string) { *p = append(*p, field+": "+problem) }

func (p *problems) err() error {
	if len(*p) == 0 {
		return nil
	}
	return errs.E(errs.Invalid, "%s", strings.Join(*p, "; "))
}

// text checks a free-text field: trimmed length in characters, valid UTF-8, no control
// characters.
func (p *problems) text(field, v string, required bool, max int) {
	v = strings.TrimSpace(v)
	switch {
	case !utf8.ValidString(v):
		p.add(field, "is not valid UTF-8")
	case required && v == "":
		p.add(field, "is required")
	case utf8.RuneCountInString(v) > max:
		p.add(field, fmt.Sprintf("is longer than %d characters", max))
	case strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		p.add(field, "contains control characters")
	}
}

func (p *problems) date(field, v string) Date {
	d, err := ParseDate(v)
	if err != nil {
		p.add(field, err.Error())
	}
	return d
}

// dateTime reads 2027-05-10T09:00, 2027-05-10 09:00 or 2027-05-10.
func (p *problems) dateTime(field, v string) (Date, TimeOfDay) {
	v = strings.TrimSpace(v)
	day, clock, hasClock := strings.Cut(strings.Replace(v, " ", "T", 1), "T")
	d, err := ParseDate(day)
	if err != nil {
		p.add(field, fmt.Sprintf("%q is not a date and time like 2027-05-10T09:00", v))
		return "", ""
	}
	if !hasClock {
		return d, ""
	}
	t, err := ParseTimeOfDay(clock)
	if err != nil {
		p.add(field, fmt.Sprintf("%q is not a date and time like 2027-05-10T09:00", v))
	}
	return d, t
}
