package web

import (
	"html/template"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
)

// funcs are the helpers every template may call.
var funcs = template.FuncMap{
	"stateLabel": stateLabel,
	"stateClass": func(s booking.State) string { return strings.ToLower(string(s)) },
	"date":       func(t time.Time) string { return t.Format("2 Jan 2006 15:04 MST") },
	"field":      newField,
}

// formField is one labelled input, with its value and its error, for the "field"
// template: the error is tied to the input by aria-describedby.
type formField struct {
	Name, Label, Type, Autocomplete, Value, Error string
	Required                                      bool
}

func newField(values, errors map[string]string, name, label, typ, autocomplete string, required bool) formField {
	return formField{Name: name, Label: label, Type: typ, Autocomplete: autocomplete,
		Value: values[name], Error: errors[name], Required: required}
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// stateLabel says a booking's state in words.
func stateLabel(s booking.State) string {
	switch s {
	case booking.Pending:
		return "Waiting for the provider"
	case booking.Reserved:
		return "Booked"
	case booking.Completed:
		return "Completed"
	case booking.NoShow:
		return "Did not attend"
	case booking.Failed:
		return "Failed the course"
	case booking.Cancelled:
		return "Cancelled"
	case booking.Rejected:
		return "Refused by the provider"
	case booking.Abandoned:
		return "Not booked (no answer from the provider)"
	}
	return string(s)
}

// classView is a class as the pages show it: dates and times in the class's own zone.
type classView struct {
	ID           int64
	ExternalID   string
	CourseName   string
	ProviderName string
	When         string // "Mon 12 Oct 2026, 09:00 – 16:00"
	Zone         string // "Europe/Oslo (CEST)"
	StartISO     string // the start date, for <time datetime>
	Place        string
	Seats        int
	Price        string
	EnrollBy     string
	CancelBy     string
	Closed       string // why the class takes no booking; "" when it does
}

const dayFormat = "Mon 2 Jan 2006"

func newClassView(c catalog.Class, course catalog.Course, provider catalog.Provider, now time.Time) classView {
	loc := c.Zone()
	start := c.StartDate.At(catalog.TimeOfDay{}, loc)
	when := start.Format(dayFormat)
	if c.StartTime != nil {
		when += ", " + c.StartTime.String()[:5]
	}
	end := c.EndDate.At(catalog.TimeOfDay{}, loc)
	switch {
	case c.EndDate != c.StartDate:
		when += " – " + end.Format(dayFormat)
		if c.EndTime != nil {
			when += ", " + c.EndTime.String()[:5]
		}
	case c.EndTime != nil:
		when += " – " + c.EndTime.String()[:5]
	}
	abbrev, _ := c.StartsAt().Zone()
	zone := c.TimeZone
	if abbrev != "" && abbrev != c.TimeZone {
		zone += " (" + abbrev + ")"
	}
	place := c.Location
	if city := c.Address.City; city != "" && !strings.Contains(strings.ToLower(place), strings.ToLower(city)) {
		place += ", " + city
	}
	v := classView{
		ID: c.ID, ExternalID: c.ExternalID, CourseName: course.Name, ProviderName: provider.Name,
		When: when, Zone: zone, StartISO: c.StartDate.String(), Place: place, Seats: c.AvailableSeats,
		Price:    c.Price.Currency + " " + c.Price.Amount(),
		EnrollBy: c.EnrollmentDeadline.At(catalog.TimeOfDay{}, loc).Format(dayFormat),
		CancelBy: c.CancellationDeadline.At(catalog.TimeOfDay{}, loc).Format(dayFormat),
	}
	if err := booking.TakesBookings(provider, c); err != nil {
		v.Closed = "This provider does not take bookings through the portal yet."
	} else if err := booking.Bookable(c, now); err != nil {
		switch {
		case c.Cancelled():
			v.Closed = "Cancelled by the provider."
		case !now.Before(c.EnrollmentClosesAt()):
			v.Closed = "Enrollment closed on " + v.EnrollBy + "."
		case c.AvailableSeats <= 0:
			v.Closed = "Full: no seats left."
		default:
			v.Closed = errs.MessageOf(err)
		}
	}
	return v
}

// sentence starts a message with a capital letter, as a sentence on a page; the
// services' messages start in lower case to read well after a field name.
func sentence(msg string) string {
	r, size := utf8.DecodeRuneInString(msg)
	if r == utf8.RuneError {
		return msg
	}
	return string(unicode.ToUpper(r)) + msg[size:]
}

// fieldErrors splits a validation message, "field: problem; field: problem", into the
// problems of the form's fields (shown next to them) and the rest (shown on top).
func fieldErrors(err error, fields []string) (byField map[string]string, rest string) {
	byField = map[string]string{}
	var others []string
	known := map[string]bool{}
	for _, f := range fields {
		known[f] = true
	}
	msg := errs.MessageOf(err)
	if errs.CodeOf(err) != errs.Invalid {
		return byField, sentence(msg)
	}
	for _, part := range strings.Split(msg, "; ") {
		field, problem, ok := strings.Cut(part, ": ")
		if ok && known[field] {
			if byField[field] != "" {
				byField[field] += "; "
			}
			byField[field] += problem
			continue
		}
		others = append(others, part)
	}
	return byField, sentence(strings.Join(others, "; "))
}
