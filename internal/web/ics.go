package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/tportal/tportal/internal/account"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/mail"
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

// classCalendar is the iCalendar text of one booked class, a file to import
// (METHOD:PUBLISH); the e-mailed invitations are made by the same code.
func classCalendar(b booking.Booking, c catalog.Class, course catalog.Course, provider catalog.Provider, now func() time.Time) string {
	return mail.Calendar(mail.CalendarEntry{Booking: b, Class: c, Course: course, Provider: provider, Method: mail.Publish, Stamp: now()})
}
