package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	ics "github.com/arran4/golang-ical"
	"github.com/chromedp/chromedp"

	"github.com/tportal/tportal/internal/store/storetest"
)

// Staff read the outbox when no SMTP server sends it: a booking's confirmation to the
// enroller and the student's with its calendar invitation, each message's text, and
// the invitation itself. Enrollers and visitors cannot.
func TestStaffOutbox(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, nil)
		open := e.addClass(classSpec{ext: "OPEN", seats: 5})
		enroller := e.client()
		enroller.signUp("Acme AS", "kari@acme.example")
		p := enroller.post("/classes/"+itoa(open.ID)+"/book", bookForm())
		if p.status != http.StatusSeeOther {
			t.Fatalf("booking: status %d\n%s", p.status, text(p.doc.Find("main")))
		}
		ref := strings.TrimPrefix(p.header.Get("Location"), "/bookings/")

		if p := e.client().get("/staff/outbox"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/signin") {
			t.Errorf("a visitor: status %d to %q, want the sign-in page", p.status, p.header.Get("Location"))
		}
		if p := enroller.get("/staff/outbox"); p.status != http.StatusNotFound {
			t.Errorf("an enroller: status %d, want 404", p.status)
		}

		if _, err := e.accounts.AddStaff(context.Background(), "Sam", "Staff", "sam@portal.example", "staff password 123"); err != nil {
			t.Fatal(err)
		}
		staff := e.client()
		if p := staff.post("/signin", url.Values{"email": {"sam@portal.example"}, "password": {"staff password 123"}}); p.status != http.StatusSeeOther {
			t.Fatalf("staff sign-in: status %d", p.status)
		}
		if idx := staff.get("/staff"); idx.doc.Find(`a[href="/staff/outbox"]`).Length() < 1 {
			t.Error("the staff index does not link to the outbox")
		}
		list := staff.get("/staff/outbox")
		if list.status != http.StatusOK {
			t.Fatalf("outbox: status %d", list.status)
		}
		if !strings.Contains(text(list.doc.Find("main")), "No SMTP server is configured") {
			t.Error("the outbox does not say that nothing is sent")
		}
		rows := list.doc.Find("table.outbox tbody tr")
		byTo := map[string]*goquery.Selection{}
		rows.Each(func(_ int, r *goquery.Selection) { byTo[text(r.Find(`td[data-label="To"]`))] = r })
		if rows.Length() != 2 || byTo["kari@acme.example"] == nil || byTo["ola@example.com"] == nil {
			t.Fatalf("outbox rows: %d, to %v; want the enroller's and the student's confirmation", rows.Length(), keys(byTo))
		}
		for to, r := range byTo {
			if got := text(r.Find(`td[data-label="Status"]`)); got != "Not sent" {
				t.Errorf("message to %s: status %q, want Not sent", to, got)
			}
		}
		for to, r := range byTo {
			if href, _ := r.Find(`td[data-label="Booking"] a`).Attr("href"); href != "/staff/bookings/"+ref ||
				text(r.Find(`td[data-label="Kind"]`)) != "booking_confirmed" {
				t.Errorf("message to %s: booking link %q, kind %q; want %s and booking_confirmed", to, href,
					text(r.Find(`td[data-label="Kind"]`)), ref)
			}
		}
		if p := staff.get("/staff/outbox?recipient=OLA%40"); p.doc.Find("table.outbox tbody tr").Length() != 1 ||
			text(p.doc.Find(`table.outbox td[data-label="To"]`)) != "ola@example.com" {
			t.Error("the recipient filter does not pick the student's message")
		}
		student := byTo["ola@example.com"]
		if !strings.Contains(text(student), "with calendar invitation") || strings.Contains(text(byTo["kari@acme.example"]), "calendar") {
			t.Error("the calendar invitation is not shown on the student's message only")
		}

		msgPath, _ := student.Find(`td[data-label="Subject"] a`).Attr("href")
		msg := staff.get(msgPath)
		if msg.status != http.StatusOK || !strings.HasPrefix(text(msg.doc.Find("h1")), "Booking confirmed: Basic Safety Training") ||
			!strings.Contains(msg.doc.Find("pre.mail").Text(), ref) {
			t.Fatalf("message page: status %d, h1 %q, body lacks %s", msg.status, text(msg.doc.Find("h1")), ref)
		}
		icsPath, ok := msg.doc.Find(`a[href$="invitation.ics"]`).Attr("href")
		if !ok {
			t.Fatal("the message page does not offer its invitation")
		}
		inv := staff.get(icsPath)
		if inv.status != http.StatusOK || !strings.HasPrefix(inv.header.Get("Content-Type"), "text/calendar") {
			t.Fatalf("invitation: status %d, type %q", inv.status, inv.header.Get("Content-Type"))
		}
		cal, err := ics.ParseCalendar(strings.NewReader(inv.body))
		if err != nil || len(cal.Events()) != 1 || cal.Events()[0].Id() != ref+"@tportal" {
			t.Fatalf("invitation does not parse as the booking's event: %v\n%s", err, inv.body)
		}
		if !strings.Contains(inv.body, "METHOD:REQUEST") || !strings.Contains(inv.body, "TZID=Europe/Oslo") {
			t.Errorf("invitation lacks METHOD:REQUEST or TZID:\n%s", inv.body)
		}

		if p := staff.get("/staff/outbox?unsent=1"); p.doc.Find("table.outbox tbody tr").Length() != 2 {
			t.Error("the unsent filter hides unsent messages")
		}
		for _, path := range []string{"/staff/outbox/999999", "/staff/outbox/x", "/staff/outbox/999999/invitation.ics"} {
			if p := staff.get(path); p.status != http.StatusNotFound {
				t.Errorf("%s: status %d, want 404", path, p.status)
			}
		}
		kariPath, _ := byTo["kari@acme.example"].Find(`td[data-label="Subject"] a`).Attr("href")
		if p := staff.get(kariPath + "/invitation.ics"); p.status != http.StatusNotFound {
			t.Errorf("invitation of a message without one: status %d, want 404", p.status)
		}
	})
}

func keys(m map[string]*goquery.Selection) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestBrowserStaffReadsOutbox: staff sign in, go from the staff index to the outbox,
// and open a booking's confirmation with its invitation, in a real browser.
func TestBrowserStaffReadsOutbox(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, "sqlite", nil)
	open := e.addClass(classSpec{ext: "OPEN", seats: 5})
	enroller := e.client()
	enroller.signUp("Acme AS", "kari@acme.example")
	p := enroller.post("/classes/"+itoa(open.ID)+"/book", bookForm())
	if p.status != http.StatusSeeOther {
		t.Fatalf("booking: status %d", p.status)
	}
	ref := strings.TrimPrefix(p.header.Get("Location"), "/bookings/")
	if _, err := e.accounts.AddStaff(context.Background(), "Sam", "Staff", "sam@portal.example", "staff password 123"); err != nil {
		t.Fatal(err)
	}

	run(t, ctx, "sign in as staff",
		chromedp.Navigate(e.url+"/signin?next=/staff"),
		fill(`form[action="/signin"]`, map[string]string{"email": "sam@portal.example", "password": "staff password 123"}),
		chromedp.WaitVisible(css(`a[href="/staff/outbox"]`)))
	run(t, ctx, "open the outbox",
		chromedp.Click(css(`a[href="/staff/outbox"]`)),
		chromedp.WaitVisible(css("table.outbox")))
	if rows := read(t, ctx, chromedp.Text(css("table.outbox tbody"))); !strings.Contains(rows, "ola@example.com") ||
		!strings.Contains(rows, "kari@acme.example") || !strings.Contains(rows, "with calendar invitation") {
		t.Errorf("the outbox shows %q", rows)
	}
	screenshots(t, ctx, "outbox")
	run(t, ctx, "open the student's message",
		chromedp.Click(css(`table.outbox tr:has(span.small) td[data-label="Subject"] a`)),
		chromedp.WaitVisible(css("pre.mail")))
	if body := read(t, ctx, chromedp.Text(css("pre.mail"))); !strings.Contains(body, ref) || !strings.Contains(body, "Hello Ola Hansen") {
		t.Errorf("the message shows %q", body)
	}
	if link := read(t, ctx, chromedp.Text(css(`a[href$="invitation.ics"]`))); link != "invitation.ics" {
		t.Errorf("invitation link %q", link)
	}
	screenshots(t, ctx, "outbox-message")
}
