package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserInviteAndReset: an enroller invites a colleague, who follows the link,
// sets a password and sees the company's bookings; then the colleague forgets the
// password and sets a new one through the reset link.
func TestBrowserInviteAndReset(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, "sqlite", nil)
	class := e.addClass(classSpec{ext: "OPEN", seats: 12, city: "Bergen"})
	e.client().signUp("Acme Industri AS", "kari@acme.example")
	ref := e.book(class.ID, e.account("kari@acme.example").CompanyID, "Hansen").Reference

	signIn := func(email, password string) {
		run(t, ctx, "sign in as "+email,
			chromedp.Navigate(e.url+"/signin"),
			chromedp.WaitVisible(css(`form[action="/signin"]`)),
			fill(`form[action="/signin"]`, map[string]string{"email": email, "password": password}),
			chromedp.WaitVisible(css(`form[action="/signout"]`)))
	}
	signOut := func() {
		run(t, ctx, "sign out",
			chromedp.Click(css(`form[action="/signout"] button`)),
			chromedp.WaitVisible(css(`header a[href="/signin"]`)))
	}

	signIn("kari@acme.example", "correct horse battery")
	run(t, ctx, "open colleagues",
		chromedp.Click(css(`header a[href="/colleagues"]`)),
		chromedp.WaitVisible(css("form.invite")))
	run(t, ctx, "invite Ola",
		fill("form.invite", map[string]string{"firstName": "Ola", "lastName": "Hansen", "email": "ola@acme.example"}),
		chromedp.WaitVisible(css("#invite-link")))
	link := read(t, ctx, chromedp.Value(css("#invite-link")))
	if !strings.HasPrefix(link, e.url+"/invitation?token=") {
		t.Fatalf("the invitation link on the page: %q", link)
	}
	if row := read(t, ctx, chromedp.Text(css(`tr[data-email="ola@acme.example"]`))); !strings.Contains(row, "Invited") {
		t.Errorf("the colleague is listed as %q", row)
	}
	screenshots(t, ctx, "colleagues")
	signOut()

	run(t, ctx, "follow the invitation",
		chromedp.Navigate(link),
		chromedp.WaitVisible(css("form.set-password")))
	screenshots(t, ctx, "invitation")
	run(t, ctx, "set a password",
		fill("form.set-password", map[string]string{"password": "olas own password"}),
		chromedp.WaitVisible(css(".flash")))
	if who := read(t, ctx, chromedp.Text(css("header .who"))); who != "Ola Hansen, Acme Industri AS" {
		t.Errorf("signed in as %q", who)
	}
	run(t, ctx, "see the company's bookings",
		chromedp.Click(css(`header a[href="/bookings"]`)),
		chromedp.WaitVisible(css(`tr[data-ref="`+ref+`"]`)))
	signOut()

	run(t, ctx, "forgot the password",
		chromedp.Navigate(e.url+"/signin"),
		chromedp.WaitVisible(css(`a[href="/forgot"]`)),
		chromedp.Click(css(`a[href="/forgot"]`)),
		chromedp.WaitVisible(css("form.forgot")))
	screenshots(t, ctx, "forgot")
	run(t, ctx, "ask for a link",
		fill("form.forgot", map[string]string{"email": "ola@acme.example"}),
		chromedp.WaitVisible(css(".sent")))
	reset := e.mail.link("reset ola@acme.example")
	if reset == "" {
		t.Fatal("no reset link was mailed")
	}
	run(t, ctx, "follow the reset link",
		chromedp.Navigate(reset),
		chromedp.WaitVisible(css("form.set-password")))
	run(t, ctx, "set a new password",
		fill("form.set-password", map[string]string{"password": "olas newer password"}),
		chromedp.WaitVisible(css(".flash")))
	if flash := read(t, ctx, chromedp.Text(css(".flash"))); !strings.Contains(flash, "new password is set") {
		t.Errorf("after the reset: %q", flash)
	}
	signOut()
	signIn("ola@acme.example", "olas newer password")
}
