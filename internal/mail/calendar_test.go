package mail_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/mail"
)

// libraryCalendar is mail.Calendar as it was written with golang-ical, which
// mail.Calendar now reproduces without building the library's calendar.
func libraryCalendar(e mail.CalendarEntry) string {
	b, c := e.Booking, e.Class
	cal := ics.NewCalendarFor("tportal")
	cal.SetMethod(e.Method)
	ev := cal.AddEvent(mail.UID(b.Reference))
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
		ev.SetAllDayEndAt(c.EndDate.At(catalog.TimeOfDay{}, loc).AddDate(0, 0, 1))
	}
	ev.SetSummary(e.Course.Name)
	ev.SetLocation(mail.Place(c))
	ev.SetDescription("Booking " + b.Reference + " for " + b.Student.FirstName + " " + b.Student.LastName +
		" with " + e.Provider.Name + ". Class " + c.ExternalID + ".")
	if e.Organizer != "" {
		ev.SetOrganizer("mailto:"+e.Organizer, ics.WithCN("Trainingportal"))
	}
	if e.Attendee != "" {
		ev.AddAttendee("mailto:"+e.Attendee, ics.WithCN(e.AttendeeName), ics.ParticipationRoleReqParticipant, ics.WithRSVP(false))
	}
	if e.Method == mail.Cancel || b.State == booking.Cancelled || c.Cancelled() {
		ev.SetStatus(ics.ObjectStatusCancelled)
	} else {
		ev.SetStatus(ics.ObjectStatusConfirmed)
	}
	return cal.Serialize()
}

// TestCalendarAsLibrary holds mail.Calendar to golang-ical's serialization byte for
// byte — escaping, parameters, and the folding of long lines at word boundaries and
// between multi-byte characters — over chosen and random entries.
func TestCalendarAsLibrary(t *testing.T) {
	base := func() mail.CalendarEntry {
		return mail.CalendarEntry{Booking: bookingOf("ola@x.example", "kari@x.example"), Class: class(t, true), Course: course,
			Provider: prov, Method: mail.Request, Sequence: 3, Organizer: "noreply@p.example", Attendee: "kari@x.example",
			AttendeeName: "Kari Nordmann", Stamp: created}
	}
	check := func(name string, e mail.CalendarEntry) {
		t.Helper()
		if got, want := mail.Calendar(e), libraryCalendar(e); got != want {
			t.Errorf("%s:\ngot  %q\nwant %q", name, got, want)
		}
	}
	check("timed", base())
	e := base()
	e.Class.StartTime, e.Method, e.Sequence, e.Organizer, e.Attendee = nil, mail.Cancel, 0, "", ""
	check("all day, cancelled, no people", e)
	e = base()
	e.Class.EndTime = nil
	e.Booking.State = booking.Cancelled
	check("no end time, booking cancelled", e)
	e = base()
	e.Method = mail.Publish
	e.AttendeeName = ""
	check("publish, attendee without a name", e)

	// Random texts from pieces that escaping and folding treat specially.
	pieces := []string{"a", "Z", "9", " ", "<", ">", ",", ";", ":", "\\", "'", "\"", "\n", "\t", "ø", "Å", "€", "日本", "😀",
		"\xff", "\xe2\x82", "mailto:", "Kurs", "  "}
	rng := rand.New(rand.NewPCG(1, 2))
	text := func() string {
		var sb strings.Builder
		for range rng.IntN(120) {
			sb.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return sb.String()
	}
	zones := []string{"Europe/Oslo", "America/New_York", "Asia/Kolkata", "UTC"}
	for i := range 3000 {
		e := base()
		e.Booking.Reference = text()
		e.Booking.Student.FirstName, e.Booking.Student.LastName = text(), text()
		e.Course.Name, e.Provider.Name = text(), text()
		e.Class.ExternalID, e.Class.Location, e.Class.Address.Line1, e.Class.Address.City = text(), text(), text(), text()
		e.Class.TimeZone = zones[rng.IntN(len(zones))]
		if rng.IntN(4) == 0 {
			e.Class.TimeZone += text()
		}
		if rng.IntN(3) == 0 {
			e.Class.StartTime = nil
		}
		e.Organizer, e.Attendee, e.AttendeeName = text(), text(), text()
		e.Method = []ics.Method{mail.Request, mail.Cancel, mail.Publish}[rng.IntN(3)]
		e.Sequence = rng.IntN(3) * rng.IntN(100000)
		e.Stamp = created.Add(time.Duration(rng.Int64N(1e15)))
		check("random "+string(rune('0'+i%10)), e)
		if t.Failed() {
			return
		}
	}
}

// fmtBody is a booking mail's text as it was written with fmt, which the composer
// now writes without.
func fmtBody(publicURL string, to booking.Person, news string, b booking.Booking, c catalog.Class, course catalog.Course, p catalog.Provider) string {
	var s strings.Builder
	name := strings.TrimSpace(to.FirstName + " " + to.LastName)
	if name == "" {
		name = "(not given)"
	}
	fmt.Fprintf(&s, "Hello %s,\n\n%s\n\n", name, news)
	fmt.Fprintf(&s, "Course:    %s\n", course.Name)
	fmt.Fprintf(&s, "Provider:  %s\n", p.Name)
	fmt.Fprintf(&s, "Class:     %s\n", c.ExternalID)
	at := func(d catalog.Date, t *catalog.TimeOfDay) string {
		if t == nil {
			return d.String()
		}
		return fmt.Sprintf("%s %02d:%02d", d, t.Hour, t.Minute)
	}
	when := at(c.StartDate, c.StartTime)
	if end := at(c.EndDate, c.EndTime); end != when {
		when += " – " + end
	}
	fmt.Fprintf(&s, "When:      %s\n", when+" ("+c.TimeZone+")")
	place := mail.Place(c)
	if place == "" {
		place = "(not given)"
	}
	fmt.Fprintf(&s, "Where:     %s\n", place)
	fmt.Fprintf(&s, "Student:   %s %s\n", b.Student.FirstName, b.Student.LastName)
	if b.Company != "" {
		fmt.Fprintf(&s, "Company:   %s\n", b.Company)
	}
	fmt.Fprintf(&s, "Booking:   %s\n", b.Reference)
	if publicURL != "" && to.Email == b.Enroller.Email {
		fmt.Fprintf(&s, "\nSee the booking: %s/bookings/%s\n", strings.TrimRight(publicURL, "/"), b.Reference)
	}
	s.WriteString("\n-- \nTrainingportal\n")
	return s.String()
}

// TestBodyAsFmt holds the booking mails' text to what fmt wrote, byte for byte.
func TestBodyAsFmt(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	pieces := []string{"", "Kari", " ", "%s", "%", "ø", "\n", "Acme AS", "https://portal.example/", "  x  "}
	text := func() string { return pieces[rng.IntN(len(pieces))] + pieces[rng.IntN(len(pieces))] }
	for i := range 500 {
		b := bookingOf(text()+"@x.example", text()+"@y.example")
		if i%3 == 0 {
			b.Student.Email = b.Enroller.Email
		}
		b.Student.FirstName, b.Student.LastName, b.Enroller.FirstName, b.Enroller.LastName = text(), text(), text(), text()
		b.Company, b.Reference = text(), "TP-"+text()
		c := class(t, i%2 == 0)
		c.Location, c.Address.Line1, c.Address.City, c.ExternalID = text(), text(), text(), text()
		switch i % 4 {
		case 1:
			c.StartTime, c.EndTime = nil, nil
		case 2:
			c.EndTime = &catalog.TimeOfDay{Hour: rng.IntN(24), Minute: rng.IntN(60)}
		case 3:
			c.EndDate = c.StartDate
			c.EndTime = c.StartTime
		}
		co, p := course, prov
		co.Name, p.Name = text(), text()
		m := &mail.Composer{PublicURL: []string{"", "https://portal.example", "https://portal.example/"}[i%3], Now: func() time.Time { return created }}
		news := "the booking below is confirmed by " + p.Name + "."
		for _, n := range m.Booked(b, c, co, p) {
			to := b.Student
			if n.To == strings.TrimSpace(b.Enroller.Email) {
				to = b.Enroller
			}
			if want := fmtBody(m.PublicURL, to, news, b, c, co, p); n.Body != want {
				t.Fatalf("body to %s:\ngot  %q\nwant %q", n.To, n.Body, want)
			}
		}
	}
}

// BenchmarkBooked composes a booking's confirmations, as every reserved booking does:
// to the enroller, and to the student with the calendar invitation.
//
//	go test -run '^$' -bench Booked -benchmem ./internal/mail/
func BenchmarkBooked(b *testing.B) {
	c, bk := class(b, true), bookingOf("ola@x.example", "kari@x.example")
	m := &mail.Composer{PublicURL: "https://portal.example", From: "noreply@portal.example"}
	b.ReportAllocs()
	for b.Loop() {
		if len(m.Booked(bk, c, course, prov)) != 2 {
			b.Fatal("want two messages")
		}
	}
}
