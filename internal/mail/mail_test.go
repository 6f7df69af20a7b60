package mail_test

import (
	"context"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/tportal/tportal/internal/account"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/mail"
)

func ptr(s string) *string { return &s }

var (
	created = time.Date(2030, 3, 1, 10, 0, 0, 0, time.UTC)
	course  = catalog.Course{ID: 1, ExternalID: "BST", Name: "Basic Safety"}
	prov    = catalog.Provider{ID: 2, Name: "Acme Training"}
)

// class is a timed class in New York that sends schedule information.
func class(t testing.TB, sendSchedule bool) catalog.Class {
	t.Helper()
	c, err := catalog.NewClass(course, catalog.ClassFields{
		ExternalID: ptr("W40"), Location: ptr("Harbour hall"), AvailableSeats: ptr("10"),
		EnrollmentDeadline: ptr("2030-09-20"), CancellationDeadline: ptr("2030-09-25"),
		StartDate: ptr("2030-10-01"), StartTime: ptr("09:00"), EndDate: ptr("2030-10-02"), EndTime: ptr("16:00"),
		AddressLine1: ptr("Pier 1"), City: ptr("New York"), ZipCode: ptr("10004"), Country: ptr("US"),
		Currency: ptr("USD"), Amount: ptr("100"), SendScheduleInfo: ptr(map[bool]string{true: "true", false: "false"}[sendSchedule]),
		TimeZone: ptr("America/New_York"),
	}, "Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	c.ID = 7
	return c
}

func bookingOf(enroller, student string) booking.Booking {
	return booking.Booking{ID: 9, Reference: "TP-ABC123", ClassID: 7, State: booking.Reserved, CreatedAt: created,
		Student: booking.Person{FirstName: "Kari", LastName: "Nordmann", Email: student}, Company: "Acme AS",
		Enroller: booking.Person{FirstName: "Ola", LastName: "Hansen", Email: enroller}}
}

// parse reads a calendar the way a mail program would, and returns its one event.
func parse(t *testing.T, text string) (*ics.Calendar, *ics.VEvent) {
	t.Helper()
	cal, err := ics.ParseCalendar(strings.NewReader(text))
	if err != nil {
		t.Fatalf("calendar does not parse: %v\n%s", err, text)
	}
	evs := cal.Events()
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	return cal, evs[0]
}

func prop(e *ics.VEvent, p ics.ComponentProperty) *ics.IANAProperty {
	return e.GetProperty(p)
}

func method(cal *ics.Calendar) string {
	for _, p := range cal.CalendarProperties {
		if p.IANAToken == string(ics.PropertyMethod) {
			return p.Value
		}
	}
	return ""
}

func TestBookingMessages(t *testing.T) {
	now := created.Add(90 * time.Second)
	m := &mail.Composer{PublicURL: "https://portal.example/", From: "noreply@portal.example", Now: func() time.Time { return now }}
	moved := class(t, true)
	moved.StartDate, moved.EndDate = catalog.Date{Year: 2030, Month: 10, Day: 8}, catalog.Date{Year: 2030, Month: 10, Day: 9}
	tests := []struct {
		name         string
		b            booking.Booking
		make         func(booking.Booking) []booking.Notification
		kind         string
		subject      string
		bodyHas      []string
		to           []string
		calendarTo   string // the recipient whose message carries the calendar, "" for none
		method       string
		status       string
		calendarDate string // DTSTART value
	}{
		{
			name: "confirmation with invitation to the student", b: bookingOf("ola@acme.example", "kari@acme.example"),
			make: func(b booking.Booking) []booking.Notification { return m.Booked(b, class(t, true), course, prov) },
			kind: mail.KindBooked, subject: "Booking confirmed: Basic Safety, 2030-10-01",
			bodyHas: []string{"confirmed by Acme Training", "2030-10-01 09:00 – 2030-10-02 16:00 (America/New_York)",
				"Harbour hall, Pier 1, 10004 New York, US", "TP-ABC123", "Kari Nordmann"},
			to: []string{"ola@acme.example", "kari@acme.example"}, calendarTo: "kari@acme.example",
			method: "REQUEST", status: "CONFIRMED", calendarDate: "20301001T090000",
		},
		{
			name: "confirmation without schedule information has no calendar", b: bookingOf("ola@acme.example", "kari@acme.example"),
			make: func(b booking.Booking) []booking.Notification { return m.Booked(b, class(t, false), course, prov) },
			kind: mail.KindBooked, subject: "Booking confirmed: Basic Safety, 2030-10-01",
			to: []string{"ola@acme.example", "kari@acme.example"},
		},
		{
			name: "one mail when enroller and student share an address", b: bookingOf("ola@acme.example", "OLA@acme.example"),
			make: func(b booking.Booking) []booking.Notification { return m.Booked(b, class(t, true), course, prov) },
			kind: mail.KindBooked, subject: "Booking confirmed: Basic Safety, 2030-10-01",
			to: []string{"ola@acme.example"}, calendarTo: "ola@acme.example", method: "REQUEST", status: "CONFIRMED",
			calendarDate: "20301001T090000",
		},
		{
			name: "no student address: the enroller only", b: bookingOf("ola@acme.example", ""),
			make: func(b booking.Booking) []booking.Notification { return m.Booked(b, class(t, true), course, prov) },
			kind: mail.KindBooked, subject: "Booking confirmed: Basic Safety, 2030-10-01", to: []string{"ola@acme.example"},
		},
		{
			name: "cancellation withdraws the invitation", b: bookingOf("ola@acme.example", "kari@acme.example"),
			make: func(b booking.Booking) []booking.Notification {
				b.State = booking.Cancelled
				return m.Cancelled(b, class(t, true), course, prov)
			},
			kind: mail.KindCancelled, subject: "Booking cancelled: Basic Safety, 2030-10-01", bodyHas: []string{"has been cancelled"},
			to: []string{"ola@acme.example", "kari@acme.example"}, calendarTo: "kari@acme.example",
			method: "CANCEL", status: "CANCELLED", calendarDate: "20301001T090000",
		},
		{
			name: "class cancelled by the provider", b: bookingOf("ola@acme.example", "kari@acme.example"),
			make: func(b booking.Booking) []booking.Notification {
				c := class(t, true)
				c.CancelledAt = &now
				return m.ClassCancelled(b, c, course, prov)
			},
			kind: mail.KindClassCancelled, subject: "Class cancelled: Basic Safety, 2030-10-01",
			bodyHas: []string{"Acme Training has cancelled the class", "may still restore it"},
			to:      []string{"ola@acme.example", "kari@acme.example"}, calendarTo: "kari@acme.example",
			method: "CANCEL", status: "CANCELLED", calendarDate: "20301001T090000",
		},
		{
			name: "class restored: the invitation sent again", b: bookingOf("ola@acme.example", "kari@acme.example"),
			make: func(b booking.Booking) []booking.Notification {
				return m.ClassRestored(b, class(t, true), course, prov)
			},
			kind: mail.KindClassRestored, subject: "Class restored: Basic Safety, 2030-10-01",
			bodyHas: []string{"Acme Training has restored the class", "the booking stands"},
			to:      []string{"ola@acme.example", "kari@acme.example"}, calendarTo: "kari@acme.example",
			method: "REQUEST", status: "CONFIRMED", calendarDate: "20301001T090000",
		},
		{
			name: "schedule changed: the invitation updated", b: bookingOf("ola@acme.example", "kari@acme.example"),
			make: func(b booking.Booking) []booking.Notification {
				return m.ScheduleChanged(b, class(t, true), moved, course, prov)
			},
			kind: mail.KindScheduleChanged, subject: "New schedule: Basic Safety, 2030-10-08",
			bodyHas: []string{"It was: 2030-10-01 09:00 – 2030-10-02 16:00 (America/New_York)", "When:      2030-10-08 09:00 – 2030-10-09 16:00"},
			to:      []string{"ola@acme.example", "kari@acme.example"}, calendarTo: "kari@acme.example",
			method: "REQUEST", status: "CONFIRMED", calendarDate: "20301008T090000",
		},
		{
			name: "schedule changed without schedule information: the enroller only, no calendar",
			b:    bookingOf("ola@acme.example", "kari@acme.example"),
			make: func(b booking.Booking) []booking.Notification {
				plain := moved
				plain.SendScheduleInfo = false
				return m.ScheduleChanged(b, class(t, false), plain, course, prov)
			},
			kind: mail.KindScheduleChanged, subject: "New schedule: Basic Safety, 2030-10-08",
			bodyHas: []string{"It was: 2030-10-01 09:00 – 2030-10-02 16:00 (America/New_York)", "When:      2030-10-08 09:00 – 2030-10-09 16:00"},
			to:      []string{"ola@acme.example"},
		},
		{
			name: "schedule changed without schedule information, enroller without address: nobody",
			b:    bookingOf("", "kari@acme.example"),
			make: func(b booking.Booking) []booking.Notification {
				plain := moved
				plain.SendScheduleInfo = false
				return m.ScheduleChanged(b, class(t, false), plain, course, prov)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := tt.make(tt.b)
			var to []string
			for _, n := range ns {
				to = append(to, n.To)
				if n.Kind != tt.kind || n.Subject != tt.subject || n.BookingID != tt.b.ID || !n.CreatedAt.Equal(now) {
					t.Errorf("message to %s = kind %q subject %q booking %d made %v; want %q %q %d %v",
						n.To, n.Kind, n.Subject, n.BookingID, n.CreatedAt, tt.kind, tt.subject, tt.b.ID, now)
				}
				for _, s := range tt.bodyHas {
					if !strings.Contains(n.Body, s) {
						t.Errorf("body to %s lacks %q:\n%s", n.To, s, n.Body)
					}
				}
				link := "https://portal.example/bookings/TP-ABC123"
				if strings.EqualFold(n.To, tt.b.Enroller.Email) != strings.Contains(n.Body, link) {
					t.Errorf("body to %s: link %s only for the enroller:\n%s", n.To, link, n.Body)
				}
				if (n.To == tt.calendarTo) != (n.Calendar != "") {
					t.Fatalf("message to %s has calendar %v, want it only on %q", n.To, n.Calendar != "", tt.calendarTo)
				}
				if n.Calendar == "" {
					continue
				}
				cal, ev := parse(t, n.Calendar)
				if got := method(cal); got != tt.method {
					t.Errorf("METHOD = %q, want %q", got, tt.method)
				}
				if got := ev.Id(); got != "TP-ABC123@tportal" {
					t.Errorf("UID = %q, want the booking's stable TP-ABC123@tportal", got)
				}
				if got := prop(ev, ics.ComponentPropertySequence); got == nil || got.Value != "90" {
					t.Errorf("SEQUENCE = %v, want 90 (seconds since the booking)", got)
				}
				if got := prop(ev, ics.ComponentPropertyStatus); got == nil || got.Value != tt.status {
					t.Errorf("STATUS = %v, want %s", got, tt.status)
				}
				start := prop(ev, ics.ComponentPropertyDtStart)
				if start == nil || start.Value != tt.calendarDate || len(start.ICalParameters["TZID"]) != 1 ||
					start.ICalParameters["TZID"][0] != "America/New_York" {
					t.Errorf("DTSTART = %+v, want %s;TZID=America/New_York", start, tt.calendarDate)
				}
				if got := prop(ev, ics.ComponentPropertyOrganizer); got == nil || got.Value != "mailto:noreply@portal.example" {
					t.Errorf("ORGANIZER = %v, want mailto:noreply@portal.example", got)
				}
				if got := prop(ev, ics.ComponentPropertyAttendee); got == nil || !strings.EqualFold(got.Value, "mailto:"+tt.calendarTo) {
					t.Errorf("ATTENDEE = %v, want mailto:%s", got, tt.calendarTo)
				}
			}
			if strings.Join(to, ",") != strings.Join(tt.to, ",") {
				t.Errorf("recipients = %v, want %v", to, tt.to)
			}
		})
	}
}

// A later version of an entry always has a higher SEQUENCE than an earlier one.
func TestSequenceGrows(t *testing.T) {
	b := bookingOf("a@x.example", "")
	prev := -1
	for _, d := range []time.Duration{-time.Second, 0, 2 * time.Second, time.Hour, 400 * 24 * time.Hour} {
		s := mail.Sequence(b, b.CreatedAt.Add(d))
		if s < prev || s < 0 {
			t.Errorf("Sequence at %v = %d after %d", d, s, prev)
		}
		prev = s
	}
}

// A class without times is whole days; DTEND is the day after its end (exclusive).
func TestCalendarAllDay(t *testing.T) {
	c := class(t, true)
	c.StartTime, c.EndTime = nil, nil
	_, ev := parse(t, mail.Calendar(mail.CalendarEntry{Booking: bookingOf("a@x.example", ""), Class: c, Course: course,
		Provider: prov, Method: mail.Publish, Stamp: created}))
	if got := prop(ev, ics.ComponentPropertyDtStart); got == nil || got.Value != "20301001" {
		t.Errorf("DTSTART = %+v, want 20301001", got)
	}
	if got := prop(ev, ics.ComponentPropertyDtEnd); got == nil || got.Value != "20301003" {
		t.Errorf("DTEND = %+v, want 20301003", got)
	}
}

type outbox struct{ got []booking.Notification }

func (o *outbox) CreateNotifications(_ context.Context, ns []booking.Notification) error {
	o.got = append(o.got, ns...)
	return nil
}

func TestAccountMails(t *testing.T) {
	to := account.Account{Email: "kari@acme.example", FirstName: "Kari", LastName: "Nordmann"}
	by := account.Account{Email: "ola@acme.example", FirstName: "Ola", LastName: "Hansen"}
	tests := []struct {
		name, kind, subject string
		send                func(*mail.AccountMails) error
		bodyHas             []string
	}{
		{"password reset", mail.KindPasswordReset, "Set a new password for Trainingportal",
			func(m *mail.AccountMails) error {
				return m.SendPasswordReset(context.Background(), to, "/reset?token=abc")
			},
			[]string{"Hello Kari Nordmann", "https://portal.example/reset?token=abc", "ignore this mail"}},
		{"invitation", mail.KindInvitation, "Your invitation to Trainingportal",
			func(m *mail.AccountMails) error {
				return m.SendInvitation(context.Background(), to, by, "https://other.example/invite?token=xyz")
			},
			[]string{"Ola Hansen <ola@acme.example> invites you", "https://other.example/invite?token=xyz"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &outbox{}
			m := &mail.AccountMails{Outbox: o, PublicURL: "https://portal.example/", Now: func() time.Time { return created }}
			if err := tt.send(m); err != nil {
				t.Fatal(err)
			}
			if len(o.got) != 1 {
				t.Fatalf("%d messages, want 1", len(o.got))
			}
			n := o.got[0]
			if n.To != to.Email || n.Kind != tt.kind || n.Subject != tt.subject || n.BookingID != 0 || n.Calendar != "" || !n.CreatedAt.Equal(created) {
				t.Errorf("message = %+v; want to %s, %s, %q, no booking, no calendar", n, to.Email, tt.kind, tt.subject)
			}
			for _, s := range tt.bodyHas {
				if !strings.Contains(n.Body, s) {
					t.Errorf("body lacks %q:\n%s", s, n.Body)
				}
			}
		})
	}
}
