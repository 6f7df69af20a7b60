package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/tportal/tportal/internal/account"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/store/storetest"
	"github.com/tportal/tportal/internal/web"
)

// mailbox is the account mailer of the tests: it keeps the last link mailed to each
// address.
type mailbox struct {
	mu    sync.Mutex
	links map[string]string // "reset to@x" or "invite to@x by@y" → link
}

func (m *mailbox) put(key, link string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.links == nil {
		m.links = map[string]string{}
	}
	m.links[key] = link
}

func (m *mailbox) SendPasswordReset(_ context.Context, to account.Account, link string) error {
	m.put("reset "+to.Email, link)
	return nil
}

func (m *mailbox) SendInvitation(_ context.Context, to, by account.Account, link string) error {
	m.put("invite "+to.Email+" "+by.Email, link)
	return nil
}

func (m *mailbox) link(key string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.links[key]
}

func (m *mailbox) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.links)
}

// path strips the portal's address off a link.
func (e *env) path(link string) string {
	e.t.Helper()
	if !strings.HasPrefix(link, e.url+"/") {
		e.t.Fatalf("link %q is not on the portal %s", link, e.url)
	}
	return strings.TrimPrefix(link, e.url)
}

// book makes a booking for the company through the booking service, as the pages do.
func (e *env) book(classID, companyID int64, student string) booking.Booking {
	e.t.Helper()
	b, err := e.bookings.Book(context.Background(), booking.Request{ClassID: classID, CompanyID: companyID, Company: "Acme Industri AS",
		Student:  booking.Person{FirstName: "Student", LastName: student},
		Enroller: booking.Person{FirstName: "Kari", LastName: "Nordmann", Email: "kari@acme.example"}})
	if err != nil && b.Reference == "" {
		e.t.Fatalf("book: %v", err)
	}
	return b
}

func (e *env) account(email string) account.Account {
	e.t.Helper()
	a, err := e.db.AccountByEmail(context.Background(), email)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func TestInviteColleague(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, nil)
		class := e.addClass(classSpec{ext: "OPEN", seats: 5})
		kari := e.client()
		if p := kari.get("/colleagues"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/signin") {
			t.Errorf("colleagues without signing in: %d %q", p.status, p.header.Get("Location"))
		}
		kari.signUp("Acme Industri AS", "kari@acme.example")
		ref := e.book(class.ID, e.account("kari@acme.example").CompanyID, "Hansen").Reference

		page := kari.get("/colleagues")
		if page.status != http.StatusOK || text(page.doc.Find(`tr[data-email="kari@acme.example"]`)) == "" {
			t.Fatalf("colleagues: %d %s", page.status, text(page.doc.Find("main")))
		}
		for _, f := range []string{"firstName", "lastName", "email"} {
			if page.doc.Find(`form.invite label[for="`+f+`"]`).Length() != 1 || page.doc.Find("form.invite #"+f).Length() != 1 {
				t.Errorf("invite field %s has no input with a label", f)
			}
		}

		// Errors inline, next to their fields.
		for name, tc := range map[string]struct {
			form  url.Values
			field string
			want  string
		}{
			"bad e-mail": {url.Values{"firstName": {"Ola"}, "lastName": {"Hansen"}, "email": {"ola"}}, "email", "not an e-mail address"},
			"no name":    {url.Values{"lastName": {"Hansen"}, "email": {"ola@acme.example"}}, "firstName", "required"},
			"has one":    {url.Values{"firstName": {"K"}, "lastName": {"N"}, "email": {"kari@acme.example"}}, "email", "already has an account"},
		} {
			p := kari.post("/colleagues", tc.form)
			if p.status/100 != 4 || !strings.Contains(text(p.doc.Find("#"+tc.field+"-error")), tc.want) {
				t.Errorf("%s: status %d, error on %s %q", name, p.status, tc.field, text(p.doc.Find("#"+tc.field+"-error")))
			}
		}

		p := kari.post("/colleagues", url.Values{"firstName": {"Ola"}, "lastName": {"Hansen"}, "email": {"ola@acme.example"}})
		link := p.doc.Find("#invite-link").AttrOr("value", "")
		if p.status != http.StatusOK || link == "" || link != e.mail.link("invite ola@acme.example kari@acme.example") {
			t.Fatalf("invite: status %d, link on the page %q, mailed %v", p.status, link, e.mail.links)
		}
		if !strings.HasPrefix(link, e.url+"/invitation?token=") {
			t.Errorf("the link is not absolute on this portal: %q", link)
		}
		if row := text(p.doc.Find(`tr[data-email="ola@acme.example"]`)); !strings.Contains(row, "Invited") {
			t.Errorf("the invited colleague is listed as %q", row)
		}

		ola := e.client()
		form := ola.get(e.path(link))
		if form.status != http.StatusOK || !strings.Contains(text(form.doc.Find("h1")), "Welcome") || form.doc.Find(`input[name=token]`).Length() != 1 {
			t.Fatalf("the invitation: %d %s", form.status, text(form.doc.Find("main")))
		}
		token := form.doc.Find(`input[name=token]`).AttrOr("value", "")
		short := ola.post("/invitation", url.Values{"token": {token}, "password": {"short"}})
		if short.status != http.StatusUnprocessableEntity || !strings.Contains(text(short.doc.Find("#password-error")), "at least 12") ||
			short.doc.Find(`input[name=token]`).AttrOr("value", "") != token {
			t.Errorf("a short password: %d %q", short.status, text(short.doc.Find("main")))
		}
		set := ola.post("/invitation", url.Values{"token": {token}, "password": {"olas own password"}})
		if set.status != http.StatusSeeOther {
			t.Fatalf("setting the password: %d %s", set.status, text(set.doc.Find("main")))
		}
		home := ola.get("/")
		if who := text(home.doc.Find("nav .who")); who != "Ola Hansen, Acme Industri AS" {
			t.Errorf("signed in as %q", who)
		}
		if !strings.Contains(text(home.doc.Find(".flash")), "Welcome, Ola") {
			t.Errorf("no welcome: %q", text(home.doc.Find(".flash")))
		}
		if ours := ola.get("/bookings"); ours.doc.Find(`tr[data-ref="`+ref+`"]`).Length() != 1 {
			t.Errorf("the colleague does not see the company's booking %s: %s", ref, text(ours.doc.Find("main")))
		}
		again := e.client().post("/invitation", url.Values{"token": {token}, "password": {"someone elses password"}})
		if again.status != http.StatusNotFound || !strings.Contains(text(again.doc.Find("main")), "not valid") {
			t.Errorf("the link worked twice: %d %s", again.status, text(again.doc.Find("main")))
		}
		if p := e.client().get("/invitation?token=made-up"); p.status != http.StatusNotFound {
			t.Errorf("a made-up link: %d", p.status)
		}

		// Staff belong to no company: no colleagues to invite.
		if _, err := e.accounts.AddStaff(context.Background(), "Sam", "Staff", "sam@portal.example", "staff password 1"); err != nil {
			t.Fatal(err)
		}
		staff := e.client()
		staff.post("/signin", url.Values{"email": {"sam@portal.example"}, "password": {"staff password 1"}})
		if p := staff.get("/colleagues"); p.status != http.StatusForbidden {
			t.Errorf("staff open colleagues: %d", p.status)
		}
	})
}

func TestPasswordReset(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, nil)
		old := e.client()
		old.signUp("Acme Industri AS", "kari@acme.example")

		visitor := e.client()
		if visitor.get("/signin").doc.Find(`a[href="/forgot"]`).Length() != 1 {
			t.Error("the sign-in page has no link to reset a password")
		}
		// The same answer whether or not the address has an account.
		answer := func(email string) (int, string) {
			p := visitor.post("/forgot", url.Values{"email": {email}})
			return p.status, strings.ReplaceAll(text(p.doc.Find("main")), email, "ADDRESS")
		}
		knownStatus, known := answer("kari@acme.example")
		unknownStatus, unknown := answer("nobody@acme.example")
		if knownStatus != http.StatusOK || known != unknown || unknownStatus != knownStatus || !strings.Contains(known, "If ADDRESS has an account") {
			t.Errorf("known and unknown addresses answered differently: %d %q / %d %q", knownStatus, known, unknownStatus, unknown)
		}
		if e.mail.count() != 1 {
			t.Errorf("mails: %v", e.mail.links)
		}
		if p := visitor.post("/forgot", url.Values{"email": {"not an address"}}); p.status != http.StatusUnprocessableEntity || text(p.doc.Find("#email-error")) == "" {
			t.Errorf("a bad address: %d", p.status)
		}

		link := e.mail.link("reset kari@acme.example")
		if !strings.HasPrefix(link, e.url+"/reset?token=") {
			t.Fatalf("reset link %q", link)
		}
		form := visitor.get(e.path(link))
		token := form.doc.Find(`input[name=token]`).AttrOr("value", "")
		if form.status != http.StatusOK || token == "" || !strings.Contains(text(form.doc.Find("main")), "kari@acme.example") {
			t.Fatalf("the reset page: %d %s", form.status, text(form.doc.Find("main")))
		}
		if p := visitor.get("/invitation?token=" + url.QueryEscape(token)); p.status != http.StatusNotFound {
			t.Errorf("a reset link opens the invitation page: %d", p.status)
		}
		if p := visitor.post("/reset", url.Values{"token": {token}, "password": {"a new long password"}}); p.status != http.StatusSeeOther {
			t.Fatalf("reset: %d %s", p.status, text(p.doc.Find("main")))
		}
		if p := visitor.get("/bookings"); p.status != http.StatusOK {
			t.Errorf("not signed in after the reset: %d", p.status)
		}
		// The session from before the reset has ended.
		if p := old.get("/bookings"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/signin") {
			t.Errorf("the old session still works after the reset: %d", p.status)
		}
		for password, want := range map[string]int{"correct horse battery": http.StatusUnauthorized, "a new long password": http.StatusSeeOther} {
			if p := e.client().post("/signin", url.Values{"email": {"kari@acme.example"}, "password": {password}}); p.status != want {
				t.Errorf("signing in with %q: %d, want %d", password, p.status, want)
			}
		}
		if p := e.client().post("/reset", url.Values{"token": {token}, "password": {"yet another password"}}); p.status != http.StatusNotFound {
			t.Errorf("the reset link worked twice: %d", p.status)
		}

		// Without a mailer: the page says so, and answers the same.
		e.accounts.Mailer = nil
		if note := text(visitor.get("/forgot").doc.Find(".note")); !strings.Contains(note, "sends no e-mail") {
			t.Errorf("no mailer, the page says %q", note)
		}
		if status, _ := answer("kari@acme.example"); status != http.StatusOK || e.mail.count() != 1 {
			t.Errorf("no mailer: %d, mails %v", status, e.mail.links)
		}
	})
}

func TestLinksUsePublicURL(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	e.client().signUp("Acme Industri AS", "kari@acme.example")
	sessions, stop := e.db.SessionStore(0)
	t.Cleanup(stop)
	pages, err := web.New(web.Config{Catalog: e.cat, Bookings: e.bookings, Accounts: e.accounts, Sessions: sessions, Staff: e.db,
		PublicURL: "https://portal.example/", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(pages)
	t.Cleanup(srv.Close)
	c := e.client()
	c.e = &env{t: t, url: srv.URL}
	c.post("/forgot", url.Values{"email": {"kari@acme.example"}})
	if link := e.mail.link("reset kari@acme.example"); !strings.HasPrefix(link, "https://portal.example/reset?token=") {
		t.Errorf("with a public URL, the link is %q", link)
	}
}

func TestOurBookingsPages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, nil)
		open := e.addClass(classSpec{ext: "OPEN", seats: 40})
		refused := e.addClass(classSpec{ext: "REFUSE-1", seats: 5, start: 70})
		c := e.client()
		c.signUp("Acme Industri AS", "kari@acme.example")
		company := e.account("kari@acme.example").CompanyID
		other := e.client()
		other.signUp("Other AS", "per@other.example")
		foreign := e.book(open.ID, e.account("per@other.example").CompanyID, "Foreign").Reference

		var refs []string // newest first
		var rejected []string
		for i := range 30 {
			class := open.ID
			if i%10 == 3 {
				class = refused.ID
			}
			b := e.book(class, company, "S"+itoa(int64(i)))
			refs = append([]string{b.Reference}, refs...)
			if b.State == booking.Rejected {
				rejected = append([]string{b.Reference}, rejected...)
			}
		}
		rows := func(p page) []string {
			var out []string
			p.doc.Find("tr[data-ref]").Each(func(_ int, s *goquery.Selection) { out = append(out, s.AttrOr("data-ref", "")) })
			return out
		}
		first := c.get("/bookings")
		got := rows(first)
		older, hasOlder := first.doc.Find(`a[rel=next]`).Attr("href")
		if len(got) != 25 || !hasOlder || first.doc.Find(`a[rel=first]`).Length() != 0 {
			t.Fatalf("first page: %d rows, older %q", len(got), older)
		}
		second := c.get(older)
		got = append(got, rows(second)...)
		if second.doc.Find(`a[rel=next]`).Length() != 0 || second.doc.Find(`a[rel=first]`).Length() != 1 {
			t.Errorf("the last page links to another, or not back to the first")
		}
		if strings.Join(got, " ") != strings.Join(refs, " ") {
			t.Errorf("the pages show\n%v\nwant, newest first,\n%v", got, refs)
		}
		for _, r := range got {
			if r == foreign {
				t.Error("another company's booking is listed")
			}
		}

		filtered := c.get("/bookings?state=REJECTED")
		if got := rows(filtered); len(rejected) != 3 || strings.Join(got, " ") != strings.Join(rejected, " ") {
			t.Errorf("rejected: %v, want %v", got, rejected)
		}
		if v := filtered.doc.Find(`#state option[selected]`).AttrOr("value", ""); v != "REJECTED" {
			t.Errorf("the filter shows %q selected", v)
		}
		if filtered.doc.Find(`label[for=state]`).Length() != 1 || filtered.doc.Find(`a[rel=next]`).Length() != 0 {
			t.Error("the filter has no label, or one page links to another")
		}
		if p := c.get("/bookings?state=COMPLETED"); len(rows(p)) != 0 || !strings.Contains(text(p.doc.Find("main")), "No bookings here") {
			t.Errorf("no completed bookings: %s", text(p.doc.Find("main")))
		}
		if p := c.get("/bookings?state=BOGUS"); p.status != http.StatusBadRequest {
			t.Errorf("a made-up status: %d", p.status)
		}
		if p := c.get("/bookings?after=garbage"); p.status != http.StatusBadRequest {
			t.Errorf("a made-up cursor: %d", p.status)
		}
	})
}
