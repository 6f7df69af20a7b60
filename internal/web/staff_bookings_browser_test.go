package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserStaffFindsABooking: staff sign in, search a booking by the student's
// name, open it and read its history, then open the call journal filtered by the
// booking's provider and one call's request and answer.
func TestBrowserStaffFindsABooking(t *testing.T) {
	ctx := browser(t)
	w := newStaffWorld(t, "sqlite")
	e := w.e

	run(t, ctx, "sign in as staff",
		chromedp.Navigate(e.url+"/signin"),
		chromedp.WaitVisible(css(`form[action="/signin"]`)),
		fill(`form[action="/signin"]`, map[string]string{"email": "siri@portal.example", "password": "correct horse battery"}),
		chromedp.WaitVisible(css(`a[href="/staff"]`)))
	run(t, ctx, "open the dashboard",
		chromedp.Click(css(`header a[href="/staff"]`)),
		chromedp.WaitVisible(css(`tr[data-provider="Acme Safety AS"]`)))
	screenshots(t, ctx, "staff-dashboard")

	run(t, ctx, "search a booking",
		chromedp.Click(css(`.sections a[href="/staff/bookings"]`)),
		chromedp.WaitVisible(css(`form.search.staff`)),
		fill(`form.search.staff`, map[string]string{"q": "liv dahl"}),
		// The value attribute is the server's: the results page has loaded.
		chromedp.WaitVisible(css(`input#q[value="liv dahl"]`)),
		chromedp.WaitVisible(css(`tr[data-ref="`+w.cancelled.Reference+`"]`)))
	if n := read(t, ctx, chromedp.Text(css(`tbody`))); !strings.Contains(n, "Liv Dahl") || strings.Contains(n, "Ola Hansen") {
		t.Errorf("searching liv dahl found %q", n)
	}

	run(t, ctx, "open the booking",
		chromedp.Click(css(`tr[data-ref="`+w.cancelled.Reference+`"] a`)),
		chromedp.WaitVisible(css(`.history`)))
	hist := read(t, ctx, chromedp.Text(css(`.history`)))
	for _, want := range []string{"Booking made", "Reserve call to Acme Safety AS", "Reserved by the provider", "Cancel call to Acme Safety AS", "Cancelled", "Notification booking_cancelled"} {
		if !strings.Contains(hist, want) {
			t.Errorf("the history lacks %q: %s", want, hist)
		}
	}
	screenshots(t, ctx, "staff-booking")

	run(t, ctx, "the provider's calls",
		chromedp.Click(css(`.summary a[href^="/staff/calls?provider="]`)),
		chromedp.WaitVisible(css(`tr[data-call]`)))
	rows := read(t, ctx, chromedp.Text(css(`tbody`)))
	if strings.Count(rows, "Acme Safety AS") != 5 || strings.Contains(rows, "Nord") {
		t.Errorf("the journal of Acme shows: %s", rows)
	}
	if sel := read(t, ctx, chromedp.Value(css(`#provider`))); sel != itoa(e.acme.ID) {
		t.Errorf("the provider filter shows %q", sel)
	}
	run(t, ctx, "only failed calls",
		chromedp.SetValue(css(`#outcome`), "failed"),
		chromedp.Click(css(`form.search.staff button[type=submit]`)),
		chromedp.WaitReady(css(`#outcome option[value="failed"][selected]`)),
		chromedp.WaitVisible(css(`p.count`)))
	if got := read(t, ctx, chromedp.Text(css(`p.count`))); got != "No calls found." {
		t.Errorf("failed calls of Acme: %q", got)
	}
	run(t, ctx, "a call's request and answer",
		chromedp.Navigate(e.url+"/staff/calls?kind=cancel"),
		chromedp.WaitVisible(css(`tr[data-call] a`)),
		chromedp.Click(css(`tr[data-call] a`)),
		chromedp.WaitVisible(css(`#answer`)))
	if got := read(t, ctx, chromedp.Text(css(`#answer`))); !strings.Contains(got, `"cancelled": true`) {
		t.Errorf("the cancel call's answer: %q", got)
	}
	screenshots(t, ctx, "staff-call")
}
