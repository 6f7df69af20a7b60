package mail_test

import (
	"testing"
	"time"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/mail"
)

// TestBookedBodies pins the exact text of both confirmation mails (the enroller's and
// the student's) and of the student's invitation for sample bookings, so that the way
// they are written can change without what they say changing.
func TestBookedBodies(t *testing.T) {
	now := created.Add(90 * time.Second)
	plain := bookingOf("ola@acme.example", "kari@acme.example")
	plain.Company = ""
	noPlace := class(t, false)
	noPlace.Location = ""
	tests := []struct {
		name      string
		publicURL string
		b         booking.Booking
		c         catalog.Class
		enroller  string
		student   string
		calendar  string
	}{
		{
			name: "with company, link and invitation", publicURL: "https://portal.example/",
			b: bookingOf("ola@acme.example", "kari@acme.example"), c: class(t, true),
			enroller: `Hello Ola Hansen,

the booking below is confirmed by Acme Training.

Course:    Basic Safety
Provider:  Acme Training
Class:     W40
When:      2030-10-01 09:00 – 2030-10-02 16:00 (America/New_York)
Where:     Harbour hall, Pier 1, 10004 New York, US
Student:   Kari Nordmann
Company:   Acme AS
Booking:   TP-ABC123

See the booking: https://portal.example/bookings/TP-ABC123

-- 
Trainingportal
`,
			student: `Hello Kari Nordmann,

the booking below is confirmed by Acme Training.

Course:    Basic Safety
Provider:  Acme Training
Class:     W40
When:      2030-10-01 09:00 – 2030-10-02 16:00 (America/New_York)
Where:     Harbour hall, Pier 1, 10004 New York, US
Student:   Kari Nordmann
Company:   Acme AS
Booking:   TP-ABC123

-- 
Trainingportal
`,
			calendar: "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//tportal//Golang ICS Library\nMETHOD:REQUEST\nBEGIN:VEVENT\n" +
				"UID:TP-ABC123@tportal\nDTSTAMP:20300301T100130Z\nSEQUENCE:90\n" +
				"DTSTART;TZID=America/New_York:20301001T090000\nDTEND;TZID=America/New_York:20301002T160000\n" +
				"SUMMARY:Basic Safety\nLOCATION:Harbour hall\\, Pier 1\\, 10004 New York\\, US\n" +
				"DESCRIPTION:Booking TP-ABC123 for Kari Nordmann with Acme Training. Class\n  W40.\n" +
				"ORGANIZER;CN=Trainingportal:mailto:noreply@portal.example\n" +
				"ATTENDEE;CN=Kari\n  Nordmann;ROLE=REQ-PARTICIPANT;RSVP=false:mailto:kari@acme.example\n" +
				"STATUS:CONFIRMED\nEND:VEVENT\nEND:VCALENDAR\n",
		},
		{
			name: "no company, no link, no location, no invitation",
			b:    plain, c: noPlace,
			enroller: `Hello Ola Hansen,

the booking below is confirmed by Acme Training.

Course:    Basic Safety
Provider:  Acme Training
Class:     W40
When:      2030-10-01 09:00 – 2030-10-02 16:00 (America/New_York)
Where:     Pier 1, 10004 New York, US
Student:   Kari Nordmann
Booking:   TP-ABC123

-- 
Trainingportal
`,
			student: `Hello Kari Nordmann,

the booking below is confirmed by Acme Training.

Course:    Basic Safety
Provider:  Acme Training
Class:     W40
When:      2030-10-01 09:00 – 2030-10-02 16:00 (America/New_York)
Where:     Pier 1, 10004 New York, US
Student:   Kari Nordmann
Booking:   TP-ABC123

-- 
Trainingportal
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &mail.Composer{PublicURL: tt.publicURL, From: "noreply@portal.example", Now: func() time.Time { return now }}
			ns := m.Booked(tt.b, tt.c, course, prov)
			if len(ns) != 2 {
				t.Fatalf("%d mails, want 2", len(ns))
			}
			for i, want := range []struct{ to, body, calendar string }{
				{"ola@acme.example", tt.enroller, ""},
				{"kari@acme.example", tt.student, tt.calendar},
			} {
				n := ns[i]
				if n.To != want.to {
					t.Errorf("mail %d to %q, want %q", i, n.To, want.to)
				}
				if n.Body != want.body {
					t.Errorf("mail %d to %s: body\n%s\nwant\n%s", i, n.To, n.Body, want.body)
				}
				if n.Calendar != want.calendar {
					t.Errorf("mail %d to %s: calendar %q, want %q", i, n.To, n.Calendar, want.calendar)
				}
			}
		})
	}
}

// BenchmarkBooked is composing the confirmation mails of one booking: the enroller's,
// the student's and the student's invitation, as every reserved booking does.
//
//	go test -run '^$' -bench Booked -benchmem ./internal/mail/
func BenchmarkBooked(b *testing.B) {
	now := created.Add(90 * time.Second)
	m := &mail.Composer{PublicURL: "https://portal.example/", From: "noreply@portal.example", Now: func() time.Time { return now }}
	bk := bookingOf("ola@acme.example", "kari@acme.example")
	c := class(b, true)
	b.ReportAllocs()
	for b.Loop() {
		if ns := m.Booked(bk, c, course, prov); len(ns) != 2 {
			b.Fatal(len(ns))
		}
	}
}
