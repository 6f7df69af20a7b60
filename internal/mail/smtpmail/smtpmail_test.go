package smtpmail_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/mail"
	"github.com/tportal/tportal/internal/mail/smtpmail"
	"github.com/tportal/tportal/internal/mail/smtptest"
)

func ptr(s string) *string { return &s }

// confirmation is the booking confirmation the student of a class that sends
// schedule information gets: with its calendar invitation.
func confirmation(t *testing.T) booking.Notification {
	t.Helper()
	course := catalog.Course{ID: 1, ExternalID: "BST", Name: "Basic Safety"}
	c, err := catalog.NewClass(course, catalog.ClassFields{
		ExternalID: ptr("W40"), Location: ptr("Harbour hall"), AvailableSeats: ptr("10"),
		EnrollmentDeadline: ptr("2030-09-20"), CancellationDeadline: ptr("2030-09-25"),
		StartDate: ptr("2030-10-01"), StartTime: ptr("09:00"), EndDate: ptr("2030-10-01"), EndTime: ptr("16:00"),
		AddressLine1: ptr("Pier 1"), City: ptr("Bergen"), ZipCode: ptr("5003"), Country: ptr("NO"),
		Currency: ptr("NOK"), Amount: ptr("100"), SendScheduleInfo: ptr("true"),
	}, "Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	b := booking.Booking{ID: 3, Reference: "TP-XYZ", State: booking.Reserved, CreatedAt: time.Now().Add(-5 * time.Second),
		Student:  booking.Person{FirstName: "Kåre", LastName: "Ødegård", Email: "kare@acme.example"},
		Enroller: booking.Person{FirstName: "Ola", LastName: "Hansen", Email: "ola@acme.example"}}
	ns := (&mail.Composer{From: "noreply@portal.example"}).Booked(b, c, course, catalog.Provider{Name: "Acme Training"})
	for _, n := range ns {
		if n.Calendar != "" {
			n.ID = 42
			return n
		}
	}
	t.Fatalf("no message with a calendar among %+v", ns)
	return booking.Notification{}
}

// decode returns a MIME part's content after its transfer encoding.
func decode(t *testing.T, h map[string][]string, body io.Reader) string {
	t.Helper()
	var r io.Reader = body
	switch strings.ToLower(strings.Join(h["Content-Transfer-Encoding"], "")) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, body)
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The student's booking confirmation reaches a real SMTP server (a relay without TLS
// or authentication, as on localhost) with its text and its invitation.ics, which
// parses as the REQUEST of the booking's event.
func TestSendConfirmationWithCalendar(t *testing.T) {
	srv := smtptest.Start(t, "", "")
	n := confirmation(t)
	s, err := smtpmail.New("smtp://"+srv.Addr+"?starttls=none", "Trainingportal <noreply@portal.example>", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), n); err != nil {
		t.Fatalf("Send: %v", err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("server received %d messages, want 1", len(msgs))
	}
	got := msgs[0]
	if got.User != "" || got.From != "noreply@portal.example" || strings.Join(got.To, ",") != "kare@acme.example" {
		t.Errorf("envelope = user %q from %q to %v; want none, noreply@portal.example, kare@acme.example", got.User, got.From, got.To)
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(got.Data))
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mime.WordDecoder)
	subject, _ := dec.DecodeHeader(msg.Header.Get("Subject"))
	if subject != n.Subject || msg.Header.Get("Message-Id") != "<outbox-42@portal.example>" {
		t.Errorf("Subject %q, Message-ID %q; want %q, <outbox-42@portal.example>", subject, msg.Header.Get("Message-Id"), n.Subject)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/mixed" {
		t.Fatalf("Content-Type %q (%v), want multipart/mixed", msg.Header.Get("Content-Type"), err)
	}
	var text, calendar, calendarType, fileName string
	parts := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := parts.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, ctParams, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		switch ct {
		case "text/plain":
			text = decode(t, p.Header, p)
		case "text/calendar":
			calendar, calendarType, fileName = decode(t, p.Header, p), ctParams["method"], p.FileName()
		}
	}
	if !strings.Contains(text, "Kåre Ødegård") || !strings.Contains(text, "TP-XYZ") {
		t.Errorf("text part lacks the student or the reference:\n%s", text)
	}
	if fileName != "invitation.ics" || calendarType != "REQUEST" {
		t.Errorf("attachment %q with method %q, want invitation.ics with method=REQUEST", fileName, calendarType)
	}
	cal, err := ics.ParseCalendar(strings.NewReader(calendar))
	if err != nil {
		t.Fatalf("attachment does not parse: %v\n%s", err, calendar)
	}
	evs := cal.Events()
	if len(evs) != 1 || evs[0].Id() != "TP-XYZ@tportal" {
		t.Fatalf("events = %d, want one with UID TP-XYZ@tportal", len(evs))
	}
	start := evs[0].GetProperty(ics.ComponentPropertyDtStart)
	if start == nil || start.Value != "20301001T090000" || strings.Join(start.ICalParameters["TZID"], "") != "Europe/Oslo" {
		t.Errorf("DTSTART = %+v, want 20301001T090000 with TZID=Europe/Oslo", start)
	}
	if seq := evs[0].GetProperty(ics.ComponentPropertySequence); seq == nil || seq.Value == "" || seq.Value == "0" {
		t.Errorf("SEQUENCE = %+v, want the seconds since the booking", seq)
	}
}

// A refused recipient, a server that wants a login, and a server without the TLS
// that the URL requires are errors, so that the job retries; a password is never
// sent over a connection without TLS.
func TestSendFailures(t *testing.T) {
	open := smtptest.Start(t, "", "")
	open.Refuse = "kare@acme.example"
	locked := smtptest.Start(t, "portal", "s3cret")
	n := confirmation(t)
	for name, tt := range map[string]struct {
		srv *smtptest.Server
		url string
	}{
		"refused recipient":            {open, "smtp://" + open.Addr + "?starttls=none"},
		"login required":               {locked, "smtp://" + locked.Addr + "?starttls=none"},
		"no password without TLS":      {locked, "smtp://portal:s3cret@" + locked.Addr + "?starttls=none"},
		"STARTTLS required by default": {open, "smtp://" + open.Addr}, // the test server offers no TLS
	} {
		t.Run(name, func(t *testing.T) {
			srv, u := tt.srv, tt.url
			s, err := smtpmail.New(u, "noreply@portal.example", 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(context.Background(), n); err == nil {
				t.Errorf("Send = nil, want an error")
			}
			if got := len(srv.Messages()); got != 0 {
				t.Errorf("server accepted %d messages, want none", got)
			}
		})
	}
}

func TestNewChecksItsConfiguration(t *testing.T) {
	for _, tt := range []struct{ url, from string }{
		{"http://host", "a@b.example"},
		{"smtp://", "a@b.example"},
		{"smtp://host:notaport", "a@b.example"},
		{"smtp://host?starttls=maybe", "a@b.example"},
		{"smtp://host", "not an address"},
	} {
		if _, err := smtpmail.New(tt.url, tt.from, 0); err == nil {
			t.Errorf("New(%q, %q) = nil error, want one", tt.url, tt.from)
		}
	}
	if got := smtpmail.Redact("smtp://u:secret@host:587"); strings.Contains(got, "secret") {
		t.Errorf("Redact = %q, shows the password", got)
	}
}
