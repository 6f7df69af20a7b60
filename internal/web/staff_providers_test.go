package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/providercall"
	"github.com/tportal/tportal/internal/store/storetest"
)

// catalogStaff adds a staff account and returns a client signed in with it.
func (e *env) catalogStaff(email string) *client {
	e.t.Helper()
	if _, err := e.accounts.AddStaff(context.Background(), "Siri", "Staff", email, "correct horse battery"); err != nil {
		e.t.Fatal(err)
	}
	c := e.client()
	if p := c.post("/signin", url.Values{"email": {email}, "password": {"correct horse battery"}}); p.status != http.StatusSeeOther {
		e.t.Fatalf("staff sign-in: status %d %s", p.status, text(p.doc.Find("main")))
	}
	return c
}

// testProvider answers reserve calls as the gateway does: a call marked as a URL test
// is answered without reserving; it records the calls it got.
type testProvider struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls []*http.Request
}

func newTestProvider(t testing.TB) *testProvider {
	tp := &testProvider{}
	tp.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tp.mu.Lock()
		tp.calls = append(tp.calls, r)
		tp.mu.Unlock()
		if r.URL.Path == "/teapot" || r.Header.Get(providercall.TestHeader) != providercall.TestMarker {
			http.Error(w, "not a test", http.StatusTeapot)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"successful": false, "errorMessage": "URL test received; nothing was reserved"}`)
	}))
	t.Cleanup(tp.srv.Close)
	return tp
}

func (tp *testProvider) got() []*http.Request {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]*http.Request(nil), tp.calls...)
}

// TestStaffPagesAreStaffOnly: visitors are sent to sign in, enrollers get the same
// 404 as a page that does not exist, for reading and for posting.
func TestStaffPagesAreStaffOnly(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	enroller := e.client()
	enroller.signUp("Acme AS", "k@acme.example")
	anonymous := e.client()
	id := itoa(e.acme.ID)
	paths := []struct{ method, path string }{
		{"GET", "/staff/providers"}, {"GET", "/staff/providers/new"}, {"POST", "/staff/providers"},
		{"GET", "/staff/providers/" + id}, {"POST", "/staff/providers/" + id}, {"POST", "/staff/providers/" + id + "/rotate"},
		{"GET", "/staff/providers/" + id + "/credentials"},
		{"POST", "/staff/providers/" + id + "/test"},
		{"GET", "/staff/courses"}, {"GET", "/staff/courses/new"}, {"POST", "/staff/courses"},
		{"GET", "/staff/courses/" + itoa(e.bst.ID)}, {"POST", "/staff/courses/" + itoa(e.bst.ID)},
	}
	form := url.Values{"name": {"Evil"}, "username": {"evil"}, "external-id": {"EVIL"}, "provider": {"acme"}}
	for _, tc := range paths {
		do := func(c *client) page {
			if tc.method == "GET" {
				return c.get(tc.path)
			}
			return c.post(tc.path, form)
		}
		if p := do(enroller); p.status != http.StatusNotFound || !strings.Contains(text(p.doc.Find(".problem")), "no page at") {
			t.Errorf("enroller %s %s: status %d: %s", tc.method, tc.path, p.status, text(p.doc.Find("main")))
		}
		if p := do(anonymous); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/signin") {
			t.Errorf("visitor %s %s: status %d, Location %q", tc.method, tc.path, p.status, p.header.Get("Location"))
		}
	}
	if _, err := e.db.ProviderByUsername(context.Background(), "evil"); err == nil {
		t.Error("an enroller's post made a provider")
	}
	staff := e.catalogStaff("siri@portal.example")
	index := staff.get("/staff")
	for _, link := range []string{"/staff/providers", "/staff/courses"} {
		if index.doc.Find(`main a[href="`+link+`"]`).Length() < 1 {
			t.Errorf("the staff index does not link to %s", link)
		}
	}
	for _, tc := range paths {
		if tc.method == "GET" {
			if p := staff.get(tc.path); p.status != http.StatusOK || p.doc.Find("main h1").Length() != 1 {
				t.Errorf("staff GET %s: status %d", tc.path, p.status)
			}
		}
	}
}

// TestStaffFormsRefuseCrossOriginPosts: the staff forms are protected like the others.
func TestStaffFormsRefuseCrossOriginPosts(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	staff := e.catalogStaff("siri@portal.example")
	for path, form := range map[string]url.Values{
		"/staff/providers": {"name": {"Evil AS"}, "username": {"evil"}},
		"/staff/providers/" + itoa(e.acme.ID) + "/rotate": {},
		"/staff/courses": {"name": {"Evil"}, "external-id": {"EVIL"}, "provider": {"acme"}},
	} {
		req, _ := http.NewRequest(http.MethodPost, e.url+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		if p := staff.do(req); p.status != http.StatusForbidden || !strings.Contains(text(p.doc.Find(".problem")), "another site") {
			t.Errorf("%s: status %d", path, p.status)
		}
	}
	ctx := context.Background()
	if _, err := e.db.ProviderByUsername(ctx, "evil"); err == nil {
		t.Error("a cross-origin post made a provider")
	}
	if acme, _ := e.db.ProviderByUsername(ctx, "acme"); acme.PasswordHash != e.acme.PasswordHash {
		t.Error("a cross-origin post rotated the credentials")
	}
	if courses, _ := e.cat.AllCourses(ctx, "acme"); len(courses) != 1 {
		t.Errorf("acme has %d courses after a cross-origin post", len(courses))
	}
}

func TestStaffProviders(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, nil)
		ctx := context.Background()
		staff := e.catalogStaff("siri@portal.example")

		for _, tc := range []struct {
			name   string
			form   url.Values
			status int
			field  string // the field whose inline error is expected
			want   string
		}{
			{"no name", url.Values{"reserve-url": {"https://p.example/r"}}, http.StatusBadRequest, "name", "is required"},
			{"bad username", url.Values{"name": {"X"}, "username": {"a b"}}, http.StatusBadRequest, "username", "must be 3 to 64"},
			{"taken username", url.Values{"name": {"Acme again"}, "username": {"acme"}}, http.StatusConflict, "username", "is taken"},
			{"control character", url.Values{"name": {"Nord\x07"}, "username": {"nord2"}}, http.StatusBadRequest, "name", "control"},
		} {
			p := staff.post("/staff/providers", tc.form)
			errText := text(p.doc.Find("#" + tc.field + "-error"))
			if p.status != tc.status || !strings.Contains(errText, tc.want) || p.doc.Find("#"+tc.field).AttrOr("aria-invalid", "") != "true" {
				t.Errorf("%s: status %d, %s error %q; page: %s", tc.name, p.status, tc.field, errText, text(p.doc.Find("main")))
			}
			if tc.form.Get("name") != "" && p.doc.Find("#name").AttrOr("value", "") != tc.form.Get("name") {
				t.Errorf("%s: the form lost the name", tc.name)
			}
		}

		// Created: the POST is answered with a redirect (303) to the credentials page,
		// which shows the stored password once; a reload shows it no more.
		tp := newTestProvider(t)
		p := staff.post("/staff/providers", url.Values{"name": {"Bergen Kurs AS"}, "reserve-url": {tp.srv.URL + "/reserve"},
			"cancel-url": {tp.srv.URL + "/cancel"}, "secret": {"s3cret-s3cret"}})
		if p.status != http.StatusSeeOther || p.doc.Find("#cred-password").Length() != 0 {
			t.Fatalf("create: status %d, want 303 without the password: %s", p.status, text(p.doc.Find("main")))
		}
		credsPath := p.header.Get("Location")
		p = staff.get(credsPath)
		username, password := text(p.doc.Find("#cred-username")), text(p.doc.Find("#cred-password"))
		if p.status != http.StatusOK || username != "bergen-kurs-as" || len(password) < 20 || !strings.Contains(text(p.doc.Find(".flash")), "Added the provider Bergen Kurs AS") {
			t.Fatalf("credentials after create: status %d, username %q, password %q: %s", p.status, username, password, text(p.doc.Find("main")))
		}
		bergen, err := e.db.ProviderByUsername(ctx, username)
		if err != nil || bcrypt.CompareHashAndPassword([]byte(bergen.PasswordHash), []byte(password)) != nil || bergen.Secret != "s3cret-s3cret" {
			t.Fatalf("stored provider %+v, %v: the shown password does not match", bergen, err)
		}
		if credsPath != "/staff/providers/"+itoa(bergen.ID)+"/credentials" {
			t.Errorf("create redirects to %q", credsPath)
		}
		if providers, _ := e.cat.Providers(ctx); len(providers) != 3 {
			t.Errorf("%d providers after one create, want 3", len(providers))
		}
		again := staff.get(credsPath)
		if again.status != http.StatusOK || strings.Contains(again.body, password) || again.doc.Find("#cred-password").Length() != 0 ||
			again.doc.Find("#cred-gone").Length() != 1 || again.doc.Find(".flash").Length() != 0 {
			t.Errorf("reloaded credentials page: status %d: %s", again.status, text(again.doc.Find("main")))
		}
		if unchanged, _ := e.db.ProviderByUsername(ctx, username); unchanged.PasswordHash != bergen.PasswordHash {
			t.Error("reloading the credentials page made a new password")
		}
		page := staff.get("/staff/providers/" + itoa(bergen.ID))
		if strings.Contains(page.body, password) || strings.Contains(page.body, "s3cret-s3cret") {
			t.Error("the provider's page shows the password or the secret again")
		}
		list := staff.get("/staff/providers")
		if row := list.doc.Find(`tr[data-provider="bergen-kurs-as"]`); !strings.Contains(text(row), "yes") || !strings.Contains(text(row), tp.srv.URL) {
			t.Errorf("the list shows %q", text(row))
		}
		// Another staff member's session never sees it.
		other := e.catalogStaff("ola@portal.example")
		if p := other.get(credsPath); strings.Contains(p.body, password) || p.doc.Find("#cred-password").Length() != 0 {
			t.Error("another session saw the password")
		}

		// Rotated: a 303 to the credentials page, a new password shown once, the old
		// one stops working; a password kept for one provider is not shown on another's page.
		p = staff.post("/staff/providers/"+itoa(bergen.ID)+"/rotate", nil)
		if p.status != http.StatusSeeOther || p.header.Get("Location") != credsPath || p.doc.Find("#cred-password").Length() != 0 {
			t.Fatalf("rotate: status %d, Location %q", p.status, p.header.Get("Location"))
		}
		p = staff.get(credsPath)
		rotated := text(p.doc.Find("#cred-password"))
		bergen, _ = e.db.ProviderByUsername(ctx, username)
		if p.status != http.StatusOK || rotated == "" || rotated == password || bcrypt.CompareHashAndPassword([]byte(bergen.PasswordHash), []byte(rotated)) != nil ||
			bcrypt.CompareHashAndPassword([]byte(bergen.PasswordHash), []byte(password)) == nil || !strings.Contains(text(p.doc.Find(".flash")), "old one no longer works") {
			t.Errorf("rotate: status %d, new password %q: %s", p.status, rotated, text(p.doc.Find("main")))
		}
		if again := staff.get(credsPath); strings.Contains(again.body, rotated) || again.doc.Find("#cred-gone").Length() != 1 {
			t.Error("the rotated password was shown twice")
		}
		staff.post("/staff/providers/"+itoa(bergen.ID)+"/rotate", nil)
		if acme := staff.get("/staff/providers/" + itoa(e.acme.ID) + "/credentials"); acme.doc.Find("#cred-password").Length() != 0 {
			t.Error("another provider's credentials page shows bergen's new password")
		}
		if p := staff.get(credsPath); p.doc.Find("#cred-password").Length() != 1 {
			t.Error("bergen's password kept for its page was lost to another provider's page")
		}

		// The URL test makes one dry call, signed, marked, and shows the answer.
		p = staff.post("/staff/providers/"+itoa(bergen.ID)+"/test", nil)
		calls := tp.got()
		if p.status != http.StatusOK || len(calls) != 1 {
			t.Fatalf("test: status %d, %d calls", p.status, len(calls))
		}
		q := calls[0].URL.Query()
		if q.Get("externalCourseClassId") != providercall.TestID || q.Get(providercall.TestParam) != providercall.TestMarker ||
			calls[0].Header.Get(providercall.SignatureHeader) == "" {
			t.Errorf("the dry call was %s %v", calls[0].URL, calls[0].Header)
		}
		if text(p.doc.Find("#test-status")) != "200" || !strings.Contains(text(p.doc.Find("#test-answer")), "nothing was reserved") ||
			!strings.Contains(text(p.doc.Find("#test-result")), "works") || text(p.doc.Find("#test-guard")) != "let the call through" {
			t.Errorf("test result: %s", text(p.doc.Find("#url-test")))
		}

		// Edited: URLs change, an empty secret keeps it, "stop signing" removes it.
		edit := url.Values{"name": {"Bergen Kurs"}, "reserve-url": {tp.srv.URL + "/teapot"}, "cancel-url": {""}, "secret": {""}}
		if p = staff.post("/staff/providers/"+itoa(bergen.ID), edit); p.status != http.StatusSeeOther {
			t.Fatalf("edit: status %d %s", p.status, text(p.doc.Find("main")))
		}
		bergen, _ = e.db.ProviderByUsername(ctx, username)
		if bergen.Name != "Bergen Kurs" || bergen.ReserveURL != tp.srv.URL+"/teapot" || bergen.CancelURL != "" || bergen.Secret != "s3cret-s3cret" {
			t.Errorf("after edit: %+v", bergen)
		}
		edit.Set("clear-secret", "1")
		staff.post("/staff/providers/"+itoa(bergen.ID), edit)
		if bergen, _ = e.db.ProviderByUsername(ctx, username); bergen.Secret != "" {
			t.Error("stop signing kept the secret")
		}
		if p = staff.post("/staff/providers/"+itoa(bergen.ID), url.Values{"name": {""}}); p.status != http.StatusBadRequest ||
			!strings.Contains(text(p.doc.Find("#name-error")), "must not be empty") {
			t.Errorf("edit without a name: status %d, %s", p.status, text(p.doc.Find("main")))
		}

		// A test of a URL that does not answer readably says why; one the portal
		// refuses to call is not made.
		p = staff.post("/staff/providers/"+itoa(bergen.ID)+"/test", nil)
		if text(p.doc.Find("#test-status")) != "418" || !strings.Contains(text(p.doc.Find("#test-problem")), "HTTP 418") {
			t.Errorf("test of a failing URL: %s", text(p.doc.Find("#url-test")))
		}
		if _, err := e.cat.ChangeProvider(ctx, username, catalog.ProviderChange{ReserveURL: ptr("http://{externalCourseId}.example/r")}); err != nil {
			t.Fatal(err)
		}
		before := len(tp.got())
		p = staff.post("/staff/providers/"+itoa(bergen.ID)+"/test", nil)
		if text(p.doc.Find("#test-guard")) != "refused the address" || len(tp.got()) != before || !strings.Contains(text(p.doc.Find("#test-result")), "not made") {
			t.Errorf("test of a refused URL: %s", text(p.doc.Find("#url-test")))
		}

		for _, path := range []string{"/staff/providers/999999", "/staff/providers/x"} {
			if p := staff.get(path); p.status != http.StatusNotFound {
				t.Errorf("%s: status %d", path, p.status)
			}
		}
	})
}
