package web

import (
	"net/http"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/tportal/tportal/internal/account"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
)

// calendar sends the booked class as an iCalendar file, its start and end in the
// class's local time with its IANA time zone (TZID), or as whole days when the
// class has no times.
func (p *Pages) calendar(w http.ResponseWriter, r *http.Request, a account.Account) {
	b, err := p.visibleBooking(r, a)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	c, err := p.cfg.Bookings.Store.ClassByID(r.Context(), b.ClassID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	courses, providers, err := p.courseIndex(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	body := classCalendar(b, c, courses[c.CourseID], providers[c.ProviderID], p.cfg.Now)
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="booking-`+strings.ReplaceAll(b.Reference, `"`, "")+`.ics"`)
	_, _ = w.Write([]byte(body))
}

// classCalendar is the iCalendar text of one booked class.
func classCalendar(b booking.Booking, c catalog.Class, course catalog.Course, provider catalog.Provider, now func() time.Time) string {
	cal := ics.NewCalendarFor("tportal")
	cal.SetMethod(ics.MethodPublish)
	e := cal.AddEvent(b.Reference + "@tportal")
	e.SetDtStampTime(now())
	loc := c.Zone()
	const local = "20060102T150405"
	if c.StartTime != nil {
		e.SetProperty(ics.ComponentPropertyDtStart, c.StartDate.At(*c.StartTime, loc).Format(local), ics.WithTZID(c.TimeZone))
		end := catalog.TimeOfDay{Hour: 23, Minute: 59}
		if c.EndTime != nil {
			end = *c.EndTime
		}
		e.SetProperty(ics.ComponentPropertyDtEnd, c.EndDate.At(end, loc).Format(local), ics.WithTZID(c.TimeZone))
	} else {
		e.SetAllDayStartAt(c.StartDate.At(catalog.TimeOfDay{}, loc))
		e.SetAllDayEndAt(c.EndDate.At(catalog.TimeOfDay{}, loc).AddDate(0, 0, 1)) // DTEND is exclusive
	}
	e.SetSummary(course.Name)
	var where []string
	for _, part := range []string{c.Location, c.Address.Line1, c.Address.Line2, strings.TrimSpace(c.Address.ZipCode + " " + c.Address.City), c.Address.Country} {
		if part != "" {
			where = append(where, part)
		}
	}
	e.SetLocation(strings.Join(where, ", "))
	e.SetDescription("Booking " + b.Reference + " for " + b.Student.FirstName + " " + b.Student.LastName +
		" with " + provider.Name + ". Class " + c.ExternalID + ".")
	if b.State == booking.Cancelled || c.Cancelled() {
		e.SetStatus(ics.ObjectStatusCancelled)
	} else {
		e.SetStatus(ics.ObjectStatusConfirmed)
	}
	return cal.Serialize()
}
