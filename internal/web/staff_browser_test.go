package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"
)

// TestBrowserStaffProviderAndCourse: portal staff sign in, add a provider and see its
// credentials once, test its reserve URL against a provider that answers, and add a
// course assigned to it with its externalCourseId.
func TestBrowserStaffProviderAndCourse(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, "sqlite", nil)
	tp := newTestProvider(t)
	if _, err := e.accounts.AddStaff(context.Background(), "Siri", "Staff", "siri@portal.example", "correct horse battery"); err != nil {
		t.Fatal(err)
	}

	run(t, ctx, "sign in as staff",
		chromedp.Navigate(e.url+"/signin"),
		chromedp.WaitVisible(css(`form[action="/signin"]`)),
		fill(`form[action="/signin"]`, map[string]string{"email": "siri@portal.example", "password": "correct horse battery"}),
		chromedp.WaitVisible(css(`a[href="/staff"]`)))
	run(t, ctx, "open the providers",
		chromedp.Click(css(`header a[href="/staff"]`)),
		chromedp.WaitVisible(css(`main a[href="/staff/providers"]`)),
		chromedp.Click(css(`main a[href="/staff/providers"]`)),
		chromedp.WaitVisible(css(`tr[data-provider="acme"]`)))

	run(t, ctx, "a provider without a name is refused inline",
		chromedp.Click(css(`a[href="/staff/providers/new"]`)),
		chromedp.WaitVisible(css(`form[action="/staff/providers"]`)),
		fill(`form[action="/staff/providers"]`, map[string]string{"reserve-url": tp.srv.URL + "/reserve"}),
		chromedp.WaitVisible(css("#name-error")))
	if kept := read(t, ctx, chromedp.Value(css("#reserve-url"))); kept != tp.srv.URL+"/reserve" {
		t.Errorf("the form lost the reserve URL: %q", kept)
	}
	run(t, ctx, "add the provider",
		fill(`form[action="/staff/providers"]`, map[string]string{"name": "Bergen Kurs AS", "reserve-url": tp.srv.URL + "/reserve",
			"cancel-url": tp.srv.URL + "/cancel", "secret": "s3cret-s3cret"}),
		chromedp.WaitVisible(css("#cred-password")))
	username := read(t, ctx, chromedp.Text(css("#cred-username")))
	password := read(t, ctx, chromedp.Text(css("#cred-password")))
	stored, err := e.db.ProviderByUsername(context.Background(), username)
	if err != nil || bcrypt.CompareHashAndPassword([]byte(stored.PasswordHash), []byte(password)) != nil {
		t.Fatalf("the credentials shown (%q, %q) are not the stored ones: %v", username, password, err)
	}
	if u := read(t, ctx, chromedp.Location()); !strings.HasSuffix(u, "/staff/providers/"+strconv.FormatInt(stored.ID, 10)+"/credentials") {
		t.Errorf("the credentials are shown at %s, not after a redirect to their page", u)
	}
	run(t, ctx, "reload the credentials page",
		chromedp.Reload(),
		chromedp.WaitVisible(css("#cred-gone")))
	if page := read(t, ctx, chromedp.Text(css("main"))); strings.Contains(page, password) {
		t.Error("the reloaded credentials page shows the password again")
	}
	if again, _ := e.db.ProviderByUsername(context.Background(), username); again.PasswordHash != stored.PasswordHash {
		t.Error("reloading the credentials page changed the password")
	}

	run(t, ctx, "open the provider and test its URL",
		chromedp.Click(css(`main a.button[href^="/staff/providers/"]`)),
		chromedp.WaitVisible(css(`form[action$="/test"]`)),
		chromedp.Click(css(`form[action$="/test"] button`)),
		chromedp.WaitVisible(css("#test-result")))
	if page := read(t, ctx, chromedp.Text(css("main"))); strings.Contains(page, password) {
		t.Error("the provider's page shows the password again")
	}
	result := read(t, ctx, chromedp.Text(css("#test-result")))
	for _, want := range []string{"The reserve URL works", "200", "nothing was reserved", "let the call through"} {
		if !strings.Contains(result, want) {
			t.Errorf("the URL test shows %q, without %q", result, want)
		}
	}
	if calls := tp.got(); len(calls) != 1 || calls[0].URL.Query().Get("trainingportalBookingReference") != "TP-URL-TEST" {
		t.Errorf("the provider got %d calls", len(calls))
	}
	screenshots(t, ctx, "staff-provider")

	run(t, ctx, "add a course for the provider",
		chromedp.Click(css(`main a[href^="/staff/courses/new?provider="]`)),
		chromedp.WaitVisible(css(`form[action="/staff/courses"]`)),
		fill(`form[action="/staff/courses"]`, map[string]string{"name": "Harbour Crane Safety", "external-id": "HCS-1",
			"description": "One day on the quay."}),
		chromedp.WaitVisible(css(`tr[data-course="HCS-1"]`)))
	if row := read(t, ctx, chromedp.Text(css(`tr[data-course="HCS-1"]`))); !strings.Contains(row, "Harbour Crane Safety") || !strings.Contains(row, "Bergen Kurs AS") {
		t.Errorf("the course list shows %q", row)
	}
	courses, err := e.cat.AllCourses(context.Background(), username)
	if err != nil || len(courses) != 1 || courses[0].ExternalID != "HCS-1" {
		t.Errorf("the provider's courses: %+v, %v", courses, err)
	}

	run(t, ctx, "the providers page",
		chromedp.Navigate(e.url+"/staff/providers"),
		chromedp.WaitVisible(css(`tr[data-provider="`+username+`"]`)))
	if row := read(t, ctx, chromedp.Text(css(`tr[data-provider="`+username+`"]`))); !strings.Contains(row, "yes") || !strings.HasSuffix(row, "1") {
		t.Errorf("the providers page shows %q", row)
	}
	screenshots(t, ctx, "staff-providers")
}
