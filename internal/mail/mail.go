// Package mail composes the e-mails the portal sends: booking confirmations and
// cancellations, a provider's cancellation, restoration and rescheduling of a class,
// calendar invitations (with their updates and cancellation) for classes that send
// schedule information, and the account mails (password reset, invitation). It does
// no I/O: messages are
// booking.Notification values that the caller adds to the outbox (the store), from
// which the job queue delivers them (internal/jobs, over internal/mail/smtpmail).
package mail

import (
	"fmt"
	"slices"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
)

// The kinds of messages, as the outbox and the staff page name them.
const (
	KindBooked          = "booking_confirmed"
	KindCancelled       = "booking_cancelled"
	KindClassCancelled  = "class_cancelled"
	KindClassRestored   = "class_restored"
	KindScheduleChanged = "schedule_changed"
	KindPasswordReset   = "password_reset"
	KindInvitation      = "account_invitation"
)

// CalendarFile is the file name of the calendar attachment.
const CalendarFile = "invitation.ics"

// Composer makes the booking e-mails. It implements booking.Messages.
type Composer struct {
	// PublicURL is the absolute base of links in mails (https://portal.example.com);
	// "" leaves the links out.
	PublicURL string
	// From is the portal's sender address, the organizer of calendar invitations.
	From string
	Now  func() time.Time // time.Now when nil
}

var _ booking.Messages = (*Composer)(nil)

func (m *Composer) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// Booked implements booking.Messages: a confirmation to the enroller and to the
// student (one mail when they share an address), the student's with a calendar
// invitation when the class sends schedule information.
func (m *Composer) Booked(b booking.Booking, c catalog.Class, course catalog.Course, p catalog.Provider) []booking.Notification {
	return m.compose(b, c, course, p, KindBooked, Request,
		"Booking confirmed: "+course.Name+", "+c.StartDate.String(),
		"the booking below is confirmed by "+p.Name+".")
}

// Cancelled implements booking.Messages: the cancellation confirmed, and the calendar
// entry withdrawn.
func (m *Composer) Cancelled(b booking.Booking, c catalog.Class, course catalog.Course, p catalog.Provider) []booking.Notification {
	return m.compose(b, c, course, p, KindCancelled, Cancel,
		"Booking cancelled: "+course.Name+", "+c.StartDate.String(),
		"the booking below has been cancelled; "+p.Name+" has confirmed the cancellation.")
}

// ClassCancelled implements booking.Messages.
func (m *Composer) ClassCancelled(b booking.Booking, c catalog.Class, course catalog.Course, p catalog.Provider) []booking.Notification {
	return m.compose(b, c, course, p, KindClassCancelled, Cancel,
		"Class cancelled: "+course.Name+", "+c.StartDate.String(),
		p.Name+" has cancelled the class of the booking below. The provider may still restore it; "+
			"otherwise please book another class.")
}

// ClassRestored implements booking.Messages: the class takes place after all, and the
// calendar entry its cancellation withdrew is sent again.
func (m *Composer) ClassRestored(b booking.Booking, c catalog.Class, course catalog.Course, p catalog.Provider) []booking.Notification {
	return m.compose(b, c, course, p, KindClassRestored, Request,
		"Class restored: "+course.Name+", "+c.StartDate.String(),
		p.Name+" has restored the class of the booking below, which it had cancelled: the class takes place "+
			"and the booking stands.")
}

// ScheduleChanged implements booking.Messages: the new schedule to the enroller
// always, and to the student with the calendar entry updated when the class sends
// schedule information. Without it the student never got an invitation to update,
// and the enroller, who booked, passes the news on.
func (m *Composer) ScheduleChanged(b booking.Booking, before, after catalog.Class, course catalog.Course, p catalog.Provider) []booking.Notification {
	ns := m.compose(b, after, course, p, KindScheduleChanged, Request,
		"New schedule: "+course.Name+", "+after.StartDate.String(),
		p.Name+" has changed when or where the class of the booking below meets. It was: "+
			When(before)+", "+orNone(Place(before))+".")
	if after.SendScheduleInfo {
		return ns
	}
	enroller := strings.TrimSpace(b.Enroller.Email)
	return slices.DeleteFunc(ns, func(n booking.Notification) bool { return !strings.EqualFold(n.To, enroller) })
}

// compose makes one message per distinct address of the enroller and the student;
// the student's carries the calendar entry (method) when the class sends schedule
// information.
func (m *Composer) compose(b booking.Booking, c catalog.Class, course catalog.Course, p catalog.Provider,
	kind string, method ics.Method, subject, news string) []booking.Notification {
	now := m.now()
	details := bookingDetails(b, c, course, p) // the same in every mail: written once
	out := make([]booking.Notification, 0, 2)
	add := func(to booking.Person, calendar bool) {
		addr := strings.TrimSpace(to.Email)
		if addr == "" {
			return
		}
		for i := range out {
			if strings.EqualFold(out[i].To, addr) {
				if calendar {
					out[i].Calendar = m.calendar(b, c, course, p, method, to, now)
				}
				return
			}
		}
		n := booking.Notification{BookingID: b.ID, Kind: kind, To: addr, Subject: subject, CreatedAt: now,
			Body: m.body(to, news, details, b)}
		if calendar {
			n.Calendar = m.calendar(b, c, course, p, method, to, now)
		}
		out = append(out, n)
	}
	add(b.Enroller, false)
	add(b.Student, c.SendScheduleInfo)
	return out
}

func (m *Composer) calendar(b booking.Booking, c catalog.Class, course catalog.Course, p catalog.Provider, method ics.Method, to booking.Person, now time.Time) string {
	return Calendar(CalendarEntry{
		Booking: b, Class: c, Course: course, Provider: p, Method: method,
		Sequence: Sequence(b, now), Organizer: m.From, Stamp: now,
		Attendee: strings.TrimSpace(to.Email), AttendeeName: strings.TrimSpace(to.FirstName + " " + to.LastName),
	})
}

// Sequence is the SEQUENCE of the version of a booking's calendar entry made at now:
// the whole seconds since the booking was made. It grows with every later version
// without a counter to store, so a calendar always takes an update or a
// cancellation over the invitation before it (versions in the same second share it,
// and RFC 5546 then orders them by DTSTAMP).
func Sequence(b booking.Booking, now time.Time) int {
	return max(int(now.Sub(b.CreatedAt)/time.Second), 0)
}

// body is the plain text of a booking mail to one person: the greeting, the news,
// the booking's details (bookingDetails), and the link to the booking for its enroller.
func (m *Composer) body(to booking.Person, news, details string, b booking.Booking) string {
	name := orNone(strings.TrimSpace(to.FirstName + " " + to.LastName))
	link := m.PublicURL != "" && to.Email == b.Enroller.Email
	var s strings.Builder
	s.Grow(len(name) + len(news) + len(details) + len(m.PublicURL) + len(b.Reference) + 64)
	s.WriteString("Hello ")
	s.WriteString(name)
	s.WriteString(",\n\n")
	s.WriteString(news)
	s.WriteString("\n\n")
	s.WriteString(details)
	if link {
		s.WriteString("\nSee the booking: ")
		s.WriteString(strings.TrimRight(m.PublicURL, "/"))
		s.WriteString("/bookings/")
		s.WriteString(b.Reference)
		s.WriteByte('\n')
	}
	s.WriteString("\n-- \nTrainingportal\n")
	return s.String()
}

// bookingDetails are the lines about the booking that every mail of it shares, one
// "Name:      value" each.
func bookingDetails(b booking.Booking, c catalog.Class, course catalog.Course, p catalog.Provider) string {
	var s strings.Builder
	s.Grow(256)
	line := func(label string, values ...string) {
		s.WriteString(label)
		for i, v := range values {
			if i > 0 {
				s.WriteByte(' ')
			}
			s.WriteString(v)
		}
		s.WriteByte('\n')
	}
	line("Course:    ", course.Name)
	line("Provider:  ", p.Name)
	line("Class:     ", c.ExternalID)
	line("When:      ", When(c))
	line("Where:     ", orNone(Place(c)))
	line("Student:   ", b.Student.FirstName, b.Student.LastName)
	if b.Company != "" {
		line("Company:   ", b.Company)
	}
	line("Booking:   ", b.Reference)
	return s.String()
}

// When is a class's schedule in its own time zone, e.g. "2026-03-02 09:00 – 2026-03-03
// 16:00 (Europe/Oslo)", or its dates when it has no times.
func When(c catalog.Class) string {
	at := func(d catalog.Date, t *catalog.TimeOfDay) string {
		if t == nil {
			return d.String()
		}
		return fmt.Sprintf("%s %02d:%02d", d, t.Hour, t.Minute)
	}
	s := at(c.StartDate, c.StartTime)
	if end := at(c.EndDate, c.EndTime); end != s {
		s += " – " + end
	}
	return s + " (" + c.TimeZone + ")"
}

func orNone(s string) string {
	if s == "" {
		return "(not given)"
	}
	return s
}
