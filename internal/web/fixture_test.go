package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/crypto/bcrypt"

	"github.com/tportal/tportal/internal/account"
	"github.com/tportal/tportal/internal/api/portal"
	"github.com/tportal/tportal/internal/auth"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/mail"
	"github.com/tportal/tportal/internal/providercall"
	"github.com/tportal/tportal/internal/server"
	"github.com/tportal/tportal/internal/store"
	"github.com/tportal/tportal/internal/store/storetest"
	"github.com/tportal/tportal/internal/web"
)

func TestMain(m *testing.M) {
	auth.BcryptCost = bcrypt.MinCost // the race detector makes default-cost hashes take a second each
	os.Exit(m.Run())
}

// refuseMessage is what the provider answers for a class whose id starts with REFUSE.
const refuseMessage = "Sorry, this class is full at our end (provider)"

// provider is a course provider's reserve and cancel URLs on a real HTTP server.
// Classes whose external id starts with REFUSE are refused with refuseMessage;
// everything else is reserved and cancels.
type provider struct {
	srv     *httptest.Server
	mu      sync.Mutex
	cancels []url.Values
}

func newProvider(t testing.TB) *provider {
	p := &provider{}
	mux := http.NewServeMux()
	n := 0
	mux.HandleFunc("/reserve", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		p.mu.Lock()
		n++
		ref := fmt.Sprintf("ACME-%d", n)
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if strings.HasPrefix(q.Get("externalCourseClassId"), "REFUSE") {
			fmt.Fprintf(w, `{"successful": false, "errorMessage": %q}`, refuseMessage)
			return
		}
		fmt.Fprintf(w, `{"successful": true, "bookingReference": %q}`, ref)
	})
	mux.HandleFunc("/cancel", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.cancels = append(p.cancels, r.URL.Query())
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"cancelled": true, "errorMessage": ""}`)
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *provider) cancelled() []url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]url.Values(nil), p.cancels...)
}

// env is a real portal (APIs and pages on one mux, as cmd/tportal wires them) over a
// real database, with two providers: Acme (reserve and cancel URLs) and Nord (none).
type env struct {
	t        testing.TB
	db       *store.DB
	cat      *catalog.Service
	bookings *booking.Service
	accounts *account.Service
	provider *provider
	mail     *mailbox // the account mails (invitations, reset links)
	acme     catalog.Provider
	nord     catalog.Provider
	bst, fa  catalog.Course
	url      string
}

func newEnv(t testing.TB, dialect string, throttle account.Throttle) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, db: storetest.Open(t, dialect), provider: newProvider(t), mail: &mailbox{}}
	e.cat = &catalog.Service{Store: e.db, DefaultZone: "Europe/Oslo", NewPassword: auth.NewPassword}
	var err error
	if e.acme, err = e.cat.AddProvider(ctx, catalog.Provider{Name: "Acme Safety AS", Username: "acme", PasswordHash: "x",
		ReserveURL: e.provider.srv.URL + "/reserve", CancelURL: e.provider.srv.URL + "/cancel"}); err != nil {
		t.Fatal(err)
	}
	if e.nord, err = e.cat.AddProvider(ctx, catalog.Provider{Name: "Nord Kurs", Username: "nord", PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	if e.bst, err = e.cat.AddCourse(ctx, "acme", catalog.Course{Name: "Basic Safety Training", ExternalID: "BST", Description: "GWO basic safety: first aid, manual handling, fire awareness and working at heights."}); err != nil {
		t.Fatal(err)
	}
	if e.fa, err = e.cat.AddCourse(ctx, "nord", catalog.Course{Name: "First Aid at Work", ExternalID: "FA", Description: "Two days of first aid for the workplace."}); err != nil {
		t.Fatal(err)
	}
	e.bookings = &booking.Service{Store: e.db, Caller: providercall.BookingCaller{
		Client: providercall.New(providercall.Options{AllowPrivateURLs: true, Timeout: 5 * time.Second, Journal: e.db}),
	}, Mail: &mail.Composer{PublicURL: "https://portal.example", From: "noreply@portal.example"}}
	if th, ok := throttle.(*auth.SignInThrottle); ok && th.Store == nil {
		th.Store = e.db // the slow-down's buckets live in the database, as in serve
	}
	e.accounts = &account.Service{Store: e.db, Passwords: &auth.Passwords{}, Throttle: throttle, Mailer: e.mail}
	sessions, stop := e.db.SessionStore(0)
	t.Cleanup(stop)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	pages, err := web.New(web.Config{Catalog: e.cat, Bookings: e.bookings, Accounts: e.accounts, Sessions: sessions, Staff: e.db, Logger: logger,
		ProviderCalls: providercall.New(providercall.Options{AllowPrivateURLs: true, Timeout: 5 * time.Second}), Outbox: e.db})
	if err != nil {
		t.Fatal(err)
	}
	api := &portal.API{Catalog: e.cat, Bookings: e.bookings, Tokens: &auth.TokenAuth{Store: e.db}}
	reg := server.NewRegistry()
	srv := httptest.NewServer(server.Handler(e.db, reg, server.NewMetrics(reg), logger, api, pages))
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

// day returns today plus n days as yyyy-MM-dd, in the classes' zone.
func day(n int) string {
	oslo, _ := time.LoadLocation("Europe/Oslo")
	return time.Now().In(oslo).AddDate(0, 0, n).Format("2006-01-02")
}

func ptr(s string) *string { return &s }

// classSpec is a class to publish; zero fields take defaults that make it bookable.
type classSpec struct {
	course                        *catalog.Course
	ext, city                     string
	seats                         int
	start, enrollment, cancelLast int // days from today
}

func (e *env) addClass(s classSpec) catalog.Class {
	e.t.Helper()
	if s.course == nil {
		s.course = &e.bst
	}
	if s.city == "" {
		s.city = "Oslo"
	}
	if s.start == 0 {
		s.start = 60
	}
	if s.enrollment == 0 {
		s.enrollment = 30
	}
	if s.cancelLast == 0 {
		s.cancelLast = 40
	}
	p := e.acme
	if s.course.ProviderID == e.nord.ID {
		p = e.nord
	}
	c, err := e.cat.AddClass(context.Background(), p, s.course.ExternalID, catalog.ClassFields{
		ExternalID: ptr(s.ext), Location: ptr(s.city + " training centre"), AvailableSeats: ptr(strconv.Itoa(s.seats)),
		EnrollmentDeadline: ptr(day(s.enrollment)), CancellationDeadline: ptr(day(s.cancelLast)),
		StartDate: ptr(day(s.start)), StartTime: ptr("09:00"), EndDate: ptr(day(s.start + 1)), EndTime: ptr("15:30"),
		AddressLine1: ptr("Storgata 1"), City: ptr(s.city), ZipCode: ptr("0155"), Country: ptr("NO"),
		Currency: ptr("NOK"), Amount: ptr("4500.50"),
	})
	if err != nil {
		e.t.Fatalf("add class %s: %v", s.ext, err)
	}
	return c
}

// client is a browser without JavaScript: cookies, forms, no redirects followed
// unless asked.
type client struct {
	t    testing.TB
	e    *env
	http *http.Client
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: e.t, e: e, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// page is an answer: its status, headers and parsed HTML.
type page struct {
	status int
	header http.Header
	body   string
	doc    *goquery.Document
}

func (c *client) do(req *http.Request) page {
	c.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(b)))
	if err != nil {
		c.t.Fatal(err)
	}
	return page{status: resp.StatusCode, header: resp.Header, body: string(b), doc: doc}
}

func (c *client) get(path string) page {
	req, _ := http.NewRequest(http.MethodGet, c.e.url+path, nil)
	return c.do(req)
}

// post sends a form as a browser on the same site does.
func (c *client) post(path string, form url.Values) page {
	req, _ := http.NewRequest(http.MethodPost, c.e.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.e.url)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return c.do(req)
}

// signUp signs a new company up and keeps the session.
func (c *client) signUp(company, email string) {
	c.t.Helper()
	p := c.post("/signup", url.Values{"company": {company}, "firstName": {"Kari"}, "lastName": {"Nordmann"},
		"email": {email}, "phone": {"+47 912 34 567"}, "password": {"correct horse battery"}})
	if p.status != http.StatusSeeOther {
		c.t.Fatalf("sign up: status %d\n%s", p.status, p.doc.Find("main").Text())
	}
}

// bookForm is a filled booking form.
func bookForm() url.Values {
	return url.Values{
		"student.firstName": {"Ola"}, "student.lastName": {"Hansen"}, "student.email": {"ola@example.com"},
		"student.phone": {"+47 400 00 000"}, "student.birthDate": {"1990-05-17"},
		"enroller.firstName": {"Kari"}, "enroller.lastName": {"Nordmann"}, "enroller.email": {"kari@acme.example"},
		"purchaseOrderNumber": {"PO-4711"}, "commentOnEnrollment": {"Vegetarian lunch, please"},
	}
}

func strconvFormat(n int64) string { return strconv.FormatInt(n, 10) }
