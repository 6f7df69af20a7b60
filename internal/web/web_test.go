package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/store/storetest"
)

func text(s *goquery.Selection) string { return strings.Join(strings.Fields(s.Text()), " ") }

func TestCatalogue(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, nil)
		e.addClass(classSpec{ext: "OPEN", seats: 5, city: "Bergen"})
		e.addClass(classSpec{ext: "FULL", seats: 0, city: "Oslo", start: 70})
		e.addClass(classSpec{ext: "LATE", seats: 5, city: "Oslo", start: 10, enrollment: -1, cancelLast: -1})
		e.addClass(classSpec{ext: "NOURL", seats: 5, city: "Tromsø", course: &e.fa})
		e.addClass(classSpec{ext: "PAST", seats: 5, start: -5, enrollment: -10, cancelLast: -10})
		c := e.client()

		p := c.get("/")
		if p.status != http.StatusOK {
			t.Fatalf("status %d", p.status)
		}
		if p.doc.Find("main#main h1").Length() != 1 || p.doc.Find("nav[aria-label=Main]").Length() != 1 {
			t.Error("the page lacks its main landmark, heading or navigation")
		}
		class := func(ext string) *goquery.Selection { return p.doc.Find(`li.class[data-class="` + ext + `"]`) }
		if class("PAST").Length() != 0 {
			t.Error("a class that started in the past is listed by default")
		}
		open := class("OPEN")
		for _, want := range []string{"09:00", "15:30", "Europe/Oslo (CE", "NOK 4500.50", "Bergen"} {
			if !strings.Contains(text(open), want) {
				t.Errorf("class OPEN does not show %q: %s", want, text(open))
			}
		}
		if seats := detail(open, "Free seats"); seats != "5" {
			t.Errorf("class OPEN shows %q free seats", seats)
		}
		if open.Find("a.button").Length() != 1 {
			t.Error("a bookable class has no booking button")
		}
		for ext, why := range map[string]string{
			"FULL": "Full: no seats left", "LATE": "Enrollment closed", "NOURL": "does not take bookings through the portal",
		} {
			if class(ext).Find("a.button").Length() != 0 || !strings.Contains(text(class(ext).Find(".closed")), why) {
				t.Errorf("class %s: want no button and %q, got %s", ext, why, text(class(ext)))
			}
		}

		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"q=first+aid", []string{"FULL", "LATE", "NOURL", "OPEN"}}, // the BST description mentions first aid too
			{"q=heights", []string{"FULL", "LATE", "OPEN"}},
			{"q=tromsø", []string{"NOURL"}},
			{"city=bergen", []string{"OPEN"}},
			{"free=1&city=oslo", []string{"LATE"}},
			{"from=" + day(65), []string{"FULL"}},
			{"to=" + day(30), []string{"LATE"}},
			{"q=nothing+like+this", nil},
		} {
			p := c.get("/?" + tc.query)
			var got []string
			p.doc.Find("li.class").Each(func(_ int, s *goquery.Selection) { got = append(got, s.AttrOr("data-class", "")) })
			if strings.Join(sorted(got), ",") != strings.Join(tc.want, ",") {
				t.Errorf("search %s: got %v, want %v", tc.query, got, tc.want)
			}
		}

		bad := c.get("/?from=17.05.2026x")
		if bad.status != http.StatusBadRequest {
			t.Errorf("a bad date: status %d", bad.status)
		}
		if bad.doc.Find(`#from[aria-invalid=true][aria-describedby=from-error]`).Length() != 1 || text(bad.doc.Find("#from-error")) == "" {
			t.Error("a bad date is not explained next to its field")
		}
	})
}

// detail is the value of a class's <dt>name</dt><dd>value</dd>.
func detail(s *goquery.Selection, name string) string {
	var v string
	s.Find("dt").Each(func(_ int, dt *goquery.Selection) {
		if text(dt) == name {
			v = text(dt.Next())
		}
	})
	return v
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestSignUpAndSignIn(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, nil)
		c := e.client()
		c.signUp("Acme Industri AS", "kari@acme.example")
		if who := text(c.get("/").doc.Find("nav .who")); who != "Kari Nordmann, Acme Industri AS" {
			t.Errorf("signed in as %q", who)
		}

		for name, tc := range map[string]struct {
			form  url.Values
			field string
			want  string
		}{
			"taken company": {url.Values{"company": {"  ACME industri as "}, "firstName": {"A"}, "lastName": {"B"}, "email": {"a@b.example"}, "password": {"correct horse battery"}},
				"company", "already signed up"},
			"taken e-mail": {url.Values{"company": {"Other AS"}, "firstName": {"A"}, "lastName": {"B"}, "email": {"KARI@acme.example"}, "password": {"correct horse battery"}},
				"email", "already has an account"},
			"short password": {url.Values{"company": {"Other AS"}, "firstName": {"A"}, "lastName": {"B"}, "email": {"a@b.example"}, "password": {"short"}},
				"password", "at least 12"},
			"no name": {url.Values{"company": {"Other AS"}, "lastName": {"B"}, "email": {"a@b.example"}, "password": {"correct horse battery"}},
				"firstName", "required"},
		} {
			p := e.client().post("/signup", tc.form)
			if p.status/100 != 4 {
				t.Errorf("%s: status %d", name, p.status)
			}
			input := p.doc.Find("#" + tc.field)
			if input.AttrOr("aria-describedby", "") != tc.field+"-error" || !strings.Contains(text(p.doc.Find("#"+tc.field+"-error")), tc.want) {
				t.Errorf("%s: no inline error %q on %s: %s", name, tc.want, tc.field, text(p.doc.Find("form")))
			}
			if tc.field != "company" && p.doc.Find("#company").AttrOr("value", "") != tc.form.Get("company") {
				t.Errorf("%s: the form was not kept", name)
			}
		}

		// Wrong password and unknown address: the same answer.
		var answers []string
		for _, form := range []url.Values{
			{"email": {"kari@acme.example"}, "password": {"wrong password!!"}},
			{"email": {"nobody@acme.example"}, "password": {"wrong password!!"}},
		} {
			p := e.client().post("/signin", form)
			if p.status != http.StatusUnauthorized {
				t.Errorf("wrong sign-in: status %d", p.status)
			}
			answers = append(answers, text(p.doc.Find(".problem")))
		}
		if answers[0] != answers[1] || answers[0] == "" {
			t.Errorf("wrong password and unknown e-mail answered differently: %q", answers)
		}

		other := e.client()
		p := other.post("/signin", url.Values{"email": {"Kari@Acme.example"}, "password": {"correct horse battery"}, "next": {"//evil.example/"}})
		if p.status != http.StatusSeeOther || p.header.Get("Location") != "/" {
			t.Errorf("sign-in: status %d, Location %q (a foreign next must go home)", p.status, p.header.Get("Location"))
		}
		if other.get("/bookings").status != http.StatusOK {
			t.Error("signed in, our bookings is not shown")
		}
		other.post("/signout", nil)
		if p := other.get("/bookings"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/signin?next=") {
			t.Errorf("signed out, our bookings answers %d %q", p.status, p.header.Get("Location"))
		}
	})
}

func TestBookAndCancel(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, nil)
		open := e.addClass(classSpec{ext: "OPEN", seats: 5})
		refused := e.addClass(classSpec{ext: "REFUSE-1", seats: 5})
		c := e.client()
		bookPath := "/classes/" + itoa(open.ID) + "/book"

		if p := c.get(bookPath); p.status != http.StatusSeeOther || p.header.Get("Location") != "/signin?next="+url.QueryEscape(bookPath) {
			t.Fatalf("booking without signing in: %d %q", p.status, p.header.Get("Location"))
		}
		c.signUp("Acme Industri AS", "kari@acme.example")
		form := c.get(bookPath)
		if v := form.doc.Find(`#enroller\.email`).AttrOr("value", ""); v != "kari@acme.example" {
			t.Errorf("the enroller's e-mail is not filled in: %q", v)
		}
		for _, f := range []string{"student.firstName", "student.lastName", "student.email", "student.phone", "student.birthDate", "purchaseOrderNumber", "commentOnEnrollment"} {
			id := strings.ReplaceAll(f, ".", `\.`)
			if form.doc.Find(`label[for="`+f+`"]`).Length() != 1 || form.doc.Find("#"+id).Length() != 1 {
				t.Errorf("field %s has no input with a label", f)
			}
		}

		// A field error: inline, nothing booked.
		bad := bookForm()
		bad.Del("student.firstName")
		bad.Set("student.birthDate", "2999-01-01")
		bad.Set("key", form.doc.Find(`input[name=key]`).AttrOr("value", ""))
		p := c.post(bookPath, bad)
		if p.status != http.StatusBadRequest {
			t.Errorf("a missing name: status %d", p.status)
		}
		for field, want := range map[string]string{"student.firstName": "required", "student.birthDate": "future"} {
			id := strings.ReplaceAll(field, ".", `\.`)
			if p.doc.Find("#"+id).AttrOr("aria-describedby", "") != field+"-error" || !strings.Contains(text(p.doc.Find("#"+id+"-error")), want) {
				t.Errorf("no inline error %q on %s", want, field)
			}
		}
		if v := p.doc.Find(`#purchaseOrderNumber`).AttrOr("value", ""); v != "PO-4711" {
			t.Errorf("the form was not kept: %q", v)
		}

		// Booked: the confirmation, with the reference; the booking is the company's.
		ok := bookForm()
		ok.Set("key", "0123456789abcdef0123456789abcdef")
		p = c.post(bookPath, ok)
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/bookings/") {
			t.Fatalf("booking: status %d, Location %q\n%s", p.status, p.header.Get("Location"), text(p.doc.Find("main")))
		}
		ref := strings.TrimPrefix(p.header.Get("Location"), "/bookings/")
		// The same form sent twice (a double click) books once.
		if again := c.post(bookPath, ok); again.header.Get("Location") != p.header.Get("Location") {
			t.Errorf("a repeated form made another booking: %q", again.header.Get("Location"))
		}
		conf := c.get("/bookings/" + ref)
		if !strings.Contains(text(conf.doc.Find("h1")), ref) || text(conf.doc.Find("#state")) != "Booked" {
			t.Errorf("confirmation: %s", text(conf.doc.Find("main")))
		}
		if !strings.Contains(text(conf.doc.Find(".flash")), "Booked") {
			t.Error("the confirmation does not say it is booked")
		}
		b, err := e.bookings.Get(context.Background(), ref)
		if err != nil {
			t.Fatal(err)
		}
		if b.State != booking.Reserved || b.CompanyID == 0 || b.Company != "Acme Industri AS" || b.PurchaseOrderNumber != "PO-4711" {
			t.Errorf("stored booking: %+v", b)
		}

		ics := c.get("/bookings/" + ref + "/calendar.ics")
		for _, want := range []string{"BEGIN:VEVENT", "DTSTART;TZID=Europe/Oslo:" + strings.ReplaceAll(day(60), "-", "") + "T090000",
			"DTEND;TZID=Europe/Oslo:" + strings.ReplaceAll(day(61), "-", "") + "T153000", "SUMMARY:Basic Safety Training", "UID:" + ref} {
			if !strings.Contains(ics.body, want) {
				t.Errorf(".ics lacks %q:\n%s", want, ics.body)
			}
		}
		if ct := ics.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/calendar") {
			t.Errorf(".ics Content-Type %q", ct)
		}

		list := c.get("/bookings")
		if row := list.doc.Find(`tr[data-ref="` + ref + `"]`); !strings.Contains(text(row), "Ola Hansen") || !strings.Contains(text(row), "Booked") {
			t.Errorf("our bookings: %s", text(list.doc.Find("main")))
		}

		// Another company sees neither the booking nor its calendar, and cannot cancel it.
		stranger := e.client()
		stranger.signUp("Other AS", "per@other.example")
		for _, path := range []string{"/bookings/" + ref, "/bookings/" + ref + "/calendar.ics"} {
			if p := stranger.get(path); p.status != http.StatusNotFound {
				t.Errorf("another company's %s: status %d", path, p.status)
			}
		}
		if p := stranger.post("/bookings/"+ref+"/cancel", nil); p.status != http.StatusNotFound {
			t.Errorf("another company's cancel: status %d", p.status)
		}
		if rows := stranger.get("/bookings").doc.Find("tr[data-ref]").Length(); rows != 0 {
			t.Errorf("another company lists %d bookings", rows)
		}

		// Refused: the provider's own message, the form kept.
		rp := c.post("/classes/"+itoa(refused.ID)+"/book", bookForm())
		if rp.status != http.StatusConflict || !strings.Contains(text(rp.doc.Find(".problem[role=alert]")), refuseMessage) {
			t.Errorf("refused booking: status %d, problem %q", rp.status, text(rp.doc.Find(".problem")))
		}
		if rp.doc.Find(`#student\.lastName`).AttrOr("value", "") != "Hansen" {
			t.Error("refused booking: the form was not kept")
		}

		// Cancel: the provider is asked, the booking shows it.
		cp := c.post("/bookings/"+ref+"/cancel", nil)
		if cp.status != http.StatusSeeOther {
			t.Fatalf("cancel: status %d", cp.status)
		}
		after := c.get("/bookings/" + ref)
		if text(after.doc.Find("#state")) != "Cancelled" || after.doc.Find("form.cancel").Length() != 0 {
			t.Errorf("after cancelling: %s", text(after.doc.Find("main")))
		}
		if n := len(e.provider.cancelled()); n != 1 {
			t.Errorf("the provider's cancel URL was called %d times", n)
		}
	})
}

func TestCrossOriginFormsAreRefused(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	for name, headers := range map[string]map[string]string{
		"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site": "cross-site"},
		"foreign Origin":            {"Origin": "https://evil.example"},
	} {
		form := url.Values{"company": {"Evil AS"}, "firstName": {"E"}, "lastName": {"Vil"}, "email": {"e@evil.example"}, "password": {"correct horse battery"}}
		req, _ := http.NewRequest(http.MethodPost, e.url+"/signup", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		p := e.client().do(req)
		if p.status != http.StatusForbidden || !strings.Contains(text(p.doc.Find(".problem")), "another site") {
			t.Errorf("%s: status %d, %s", name, p.status, text(p.doc.Find("main")))
		}
	}
	if _, err := e.db.AccountByEmail(context.Background(), "e@evil.example"); err == nil {
		t.Error("a cross-origin sign-up made an account")
	}
	// The same form from the site itself is taken.
	e.client().signUp("Good AS", "g@good.example")
}

func TestPagesAnswerErrorsAsPages(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	c := e.client()
	if p := c.get("/no/such/page"); p.status != http.StatusNotFound || p.doc.Find("main h1").Length() != 1 {
		t.Errorf("unknown page: %d", p.status)
	}
	c.signUp("Acme AS", "k@acme.example")
	for _, path := range []string{"/classes/999/book", "/classes/x/book", "/bookings/nonesuch"} {
		if p := c.get(path); p.status != http.StatusNotFound {
			t.Errorf("%s: status %d", path, p.status)
		}
	}
	p := c.get("/")
	for h, want := range map[string]string{"Content-Security-Policy": "frame-ancestors 'none'", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"} {
		if !strings.Contains(p.header.Get(h), want) {
			t.Errorf("header %s = %q", h, p.header.Get(h))
		}
	}
	if css := c.get("/static/style.css"); css.status != http.StatusOK || !strings.Contains(css.body, ":focus-visible") {
		t.Errorf("style sheet: %d", css.status)
	}
}

func itoa(n int64) string { return strconvFormat(n) }
