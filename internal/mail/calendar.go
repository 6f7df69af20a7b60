package mail

import (
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
)

// The iTIP methods of the calendar entries (RFC 5546).
const (
	Publish = ics.MethodPublish // a file to import: the web pages' download
	Request = ics.MethodRequest // an invitation, or its update
	Cancel  = ics.MethodCancel  // the invitation withdrawn
)

// CalendarEntry is what the iCalendar text of one booked class is made from.
type CalendarEntry struct {
	Booking  booking.Booking
	Class    catalog.Class
	Course   catalog.Course
	Provider catalog.Provider
	Method   ics.Method
	// Sequence orders the versions of one entry; a calendar applies an update only
	// when it is higher than the one it has (0: omitted).
	Sequence int
	// Organizer is the e-mail address invitations come from; "" for none.
	Organizer string
	// Attendee is the address the invitation is for; "" for none.
	Attendee, AttendeeName string
	Stamp                  time.Time // DTSTAMP: when this version was made
}

// UID is the stable identifier of a booking's calendar entry: every update and the
// cancellation name the same entry.
func UID(ref string) string { return ref + "@tportal" }

// Calendar is the iCalendar text of one booked class: its start and end in the class's
// local time with its IANA time zone (TZID), or whole days when the class has no
// times; cancelled when the method is CANCEL or the booking or class is cancelled.
func Calendar(e CalendarEntry) string {
	b, c := e.Booking, e.Class
	cal := ics.NewCalendarFor("tportal")
	cal.SetMethod(e.Method)
	ev := cal.AddEvent(UID(b.Reference))
	ev.SetDtStampTime(e.Stamp)
	if e.Sequence > 0 {
		ev.SetSequence(e.Sequence)
	}
	loc := c.Zone()
	const local = "20060102T150405"
	if c.StartTime != nil {
		ev.SetProperty(ics.ComponentPropertyDtStart, c.StartDate.At(*c.StartTime, loc).Format(local), ics.WithTZID(c.TimeZone))
		end := catalog.TimeOfDay{Hour: 23, Minute: 59}
		if c.EndTime != nil {
			end = *c.EndTime
		}
		ev.SetProperty(ics.ComponentPropertyDtEnd, c.EndDate.At(end, loc).Format(local), ics.WithTZID(c.TimeZone))
	} else {
		ev.SetAllDayStartAt(c.StartDate.At(catalog.TimeOfDay{}, loc))
		ev.SetAllDayEndAt(c.EndDate.At(catalog.TimeOfDay{}, loc).AddDate(0, 0, 1)) // DTEND is exclusive
	}
	ev.SetSummary(e.Course.Name)
	ev.SetLocation(Place(c))
	ev.SetDescription("Booking " + b.Reference + " for " + b.Student.FirstName + " " + b.Student.LastName +
		" with " + e.Provider.Name + ". Class " + c.ExternalID + ".")
	if e.Organizer != "" {
		ev.SetOrganizer("mailto:"+e.Organizer, ics.WithCN("Trainingportal"))
	}
	if e.Attendee != "" {
		ev.AddAttendee("mailto:"+e.Attendee, ics.WithCN(e.AttendeeName), ics.ParticipationRoleReqParticipant, ics.WithRSVP(false))
	}
	if e.Method == Cancel || b.State == booking.Cancelled || c.Cancelled() {
		ev.SetStatus(ics.ObjectStatusCancelled)
	} else {
		ev.SetStatus(ics.ObjectStatusConfirmed)
	}
	// Sized for a usual entry (600-900 bytes), which a buffer growing from
	// nothing reaches through many smaller ones.
	var text strings.Builder
	text.Grow(1024)
	_ = cal.SerializeTo(&text) // fails only for bad serialization options
	return text.String()
}

// Place is where a class meets, as one line: its location and address.
func Place(c catalog.Class) string {
	var where []string
	for _, part := range []string{c.Location, c.Address.Line1, c.Address.Line2, strings.TrimSpace(c.Address.ZipCode + " " + c.Address.City), c.Address.Country} {
		if part != "" {
			where = append(where, part)
		}
	}
	return strings.Join(where, ", ")
}
