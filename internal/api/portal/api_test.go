package portal_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/api/courseprovider"
	"github.com/tportal/tportal/internal/api/portal"
	"github.com/tportal/tportal/internal/auth"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/providercall"
	"github.com/tportal/tportal/internal/server"
	"github.com/tportal/tportal/internal/store"
	"github.com/tportal/tportal/internal/store/storetest"
)

// fakeProvider is a provider's reserve and cancel URLs. What it answers depends on
// the class's external id (reserve) and the provider reference (cancel):
//
//	REFUSE…  reserve answers successful=false with refuseMessage
//	FAIL…    reserve answers HTTP 500
//	SLOW…    reserve never answers within the client's timeout
//	KEEP…    reserve succeeds with a provider reference KEEP-…, whose cancel is refused
//	MUTE…    reserve succeeds with a provider reference MUTE-…, whose cancel never answers
//	anything else: reserve succeeds with P-…, and cancel succeeds
type fakeProvider struct {
	srv      *httptest.Server
	mu       sync.Mutex
	reserves []url.Values
	cancels  []url.Values
}

const (
	refuseMessage = "Course is full at our end"
	keepMessage   = "Too late to cancel at our end"
)

func newFakeProvider(t testing.TB) *fakeProvider {
	f := &fakeProvider{}
	wait := func(r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/reserve", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f.mu.Lock()
		f.reserves = append(f.reserves, q)
		n := len(f.reserves)
		f.mu.Unlock()
		ext := q.Get("externalCourseClassId")
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasPrefix(ext, "REFUSE"):
			fmt.Fprintf(w, `{"successful": false, "errorMessage": %q}`, refuseMessage)
		case strings.HasPrefix(ext, "FAIL"):
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `{"successful": false, "errorMessage": "database down"}`)
		case strings.HasPrefix(ext, "SLOW"):
			wait(r)
		case strings.HasPrefix(ext, "KEEP"), strings.HasPrefix(ext, "MUTE"):
			fmt.Fprintf(w, `{"successful": true, "bookingReference": "%s-%d"}`, ext[:4], n)
		default:
			fmt.Fprintf(w, `{"successful": true, "bookingReference": "P-%d"}`, n)
		}
	})
	mux.HandleFunc("/cancel", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f.mu.Lock()
		f.cancels = append(f.cancels, q)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch ref := q.Get("bookingReference"); {
		case strings.HasPrefix(ref, "KEEP"):
			fmt.Fprintf(w, `{"cancelled": false, "errorMessage": %q}`, keepMessage)
		case strings.HasPrefix(ref, "MUTE"):
			wait(r)
		default:
			fmt.Fprint(w, `{"cancelled": true, "errorMessage": ""}`)
		}
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// calls returns the reserve or cancel calls whose parameter key has the value.
func (f *fakeProvider) calls(cancel bool, key, value string) []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	list := f.reserves
	if cancel {
		list = f.cancels
	}
	var out []url.Values
	for _, q := range list {
		if q.Get(key) == value {
			out = append(out, q)
		}
	}
	return out
}

// env is a real portal over a real database, with two providers: acme (course BST,
// reserve and cancel URLs on a fake provider) and nord (course FA, no URLs).
type env struct {
	t        testing.TB
	dialect  string
	dbURL    string
	db       *store.DB
	cat      *catalog.Service
	provider *fakeProvider
	acme     catalog.Provider
	nord     catalog.Provider
	bst, fa  catalog.Course
	url      string
	token    string
	bookings *booking.Service
}

func newEnv(t testing.TB, dialect string) *env {
	t.Helper()
	ctx := context.Background()
	dbURL := storetest.URL(t, dialect)
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{t: t, dialect: dialect, dbURL: dbURL, db: db, provider: newFakeProvider(t)}
	e.cat = &catalog.Service{Store: e.db, DefaultZone: "Europe/Oslo"}
	if e.acme, err = e.cat.AddProvider(ctx, catalog.Provider{Name: "Acme Safety AS", Username: "acme", PasswordHash: "x",
		ReserveURL: e.provider.srv.URL + "/reserve", CancelURL: e.provider.srv.URL + "/cancel"}); err != nil {
		t.Fatal(err)
	}
	if e.nord, err = e.cat.AddProvider(ctx, catalog.Provider{Name: "Nord Kurs", Username: "nord", PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	if e.bst, err = e.cat.AddCourse(ctx, "acme", catalog.Course{Name: "Basic Safety", ExternalID: "BST", Description: "GWO basic safety"}); err != nil {
		t.Fatal(err)
	}
	if e.fa, err = e.cat.AddCourse(ctx, "nord", catalog.Course{Name: "First Aid", ExternalID: "FA", Description: "First aid at work"}); err != nil {
		t.Fatal(err)
	}
	bookings := &booking.Service{Store: e.db, Caller: providercall.BookingCaller{
		Client: providercall.New(providercall.Options{AllowPrivateURLs: true, Timeout: 300 * time.Millisecond}),
	}}
	e.bookings = bookings
	token, hash := auth.NewToken()
	if _, err := e.db.CreateToken(ctx, "test suite", hash, nil); err != nil {
		t.Fatal(err)
	}
	e.token = token
	// Wired as cmd/tportal wires it, beside the course-provider API on one mux.
	api := &portal.API{Catalog: e.cat, Bookings: bookings, Tokens: &auth.TokenAuth{Store: e.db}}
	cp := &courseprovider.API{Catalog: e.cat, Bookings: bookings, Auth: auth.New(e.db)}
	reg := server.NewRegistry()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(server.Handler(e.db, reg, server.NewMetrics(reg), logger, cp, api))
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
	ext, location                 string
	seats                         int
	start, enrollment, cancelLast int // days from today
}

func (e *env) addClass(s classSpec) catalog.Class {
	e.t.Helper()
	if s.course == nil {
		s.course = &e.bst
	}
	if s.location == "" {
		s.location = "Oslo"
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
		ExternalID: ptr(s.ext), Location: ptr(s.location), AvailableSeats: ptr(strconv.Itoa(s.seats)),
		EnrollmentDeadline: ptr(day(s.enrollment)), CancellationDeadline: ptr(day(s.cancelLast)),
		StartDate: ptr(day(s.start)), StartTime: ptr("09:00"), EndDate: ptr(day(s.start)), EndTime: ptr("15:30"),
		AddressLine1: ptr("Storgata 1"), City: ptr(s.location), ZipCode: ptr("0155"), Country: ptr("NO"),
		Currency: ptr("NOK"), Amount: ptr("4500.50"),
	})
	if err != nil {
		e.t.Fatalf("add class %s: %v", s.ext, err)
	}
	return c
}

// response is an answer of the API.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

func (r response) str(t *testing.T, key string) string {
	t.Helper()
	v, ok := r.object(t)[key]
	if !ok {
		t.Fatalf("body %s has no %q", r.body, key)
	}
	s, ok := v.(string)
	if !ok {
		t.Fatalf("%q in %s is %T, want a string", key, r.body, v)
	}
	return s
}

// do sends a request with the token (none when ""). With PORTAL_API_EXAMPLES set to
// a file, the SQLite run appends each exchange to it, for docs/api-portal.md.
func (e *env) do(method, path, token, body string) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := validatingClient(e.t).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if f := os.Getenv("PORTAL_API_EXAMPLES"); f != "" && e.dialect == "sqlite" && len(body) < 2000 {
		out, err := os.OpenFile(f, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintf(out, "### %s\n%s %s\n%s\n--> %d\n%s\n", e.t.Name(), method, path, body, res.StatusCode, b)
			out.Close()
		}
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// seats returns the class's availableSeats as GET /api/v1/classes shows it.
func (e *env) seats(classID int64) int {
	e.t.Helper()
	r := e.do("GET", "/api/v1/classes", e.token, "")
	if r.status != 200 {
		e.t.Fatalf("GET classes = %d %s", r.status, r.body)
	}
	var list []struct {
		ID             int64 `json:"id"`
		AvailableSeats int   `json:"availableSeats"`
	}
	if err := json.Unmarshal(r.body, &list); err != nil {
		e.t.Fatal(err)
	}
	for _, c := range list {
		if c.ID == classID {
			return c.AvailableSeats
		}
	}
	e.t.Fatalf("class %d not in GET classes: %s", classID, r.body)
	return -1
}

func bookBody(classID int64) string {
	return fmt.Sprintf(`{"classId": %d,
  "student": {"firstName": "Kari", "lastName": "Nordmann", "email": "kari@example.no", "phone": "+47 912 34 567", "birthDate": "1990-04-12"},
  "enroller": {"firstName": "Ola", "lastName": "Hansen", "email": "ola@acme-industri.no", "phone": "+47 22 33 44 55"},
  "company": "Acme Industri AS", "commentOnEnrollment": "Vegetarian lunch", "purchaseOrderNumber": "PO-4711"}`, classID)
}

// book makes a booking that must be reserved and returns its answer.
func (e *env) book(classID int64) response {
	e.t.Helper()
	r := e.do("POST", "/api/v1/bookings", e.token, bookBody(classID))
	if r.status != http.StatusCreated {
		e.t.Fatalf("book class %d = %d %s", classID, r.status, r.body)
	}
	return r
}

func TestBookings(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		cases := []struct {
			name     string
			class    classSpec
			token    string                     // "" means the suite's token; "-" none
			body     func(classID int64) string // bookBody when nil
			status   int
			state    booking.State // "" when no booking may exist
			message  string        // a substring of errorMessage; "" means errorMessage must be ""
			seats    int           // the class's availableSeats afterwards
			reserves int           // reserve calls the provider received
		}{
			{name: "reserved", class: classSpec{ext: "OK1", seats: 3},
				status: 201, state: booking.Reserved, seats: 2, reserves: 1},
			{name: "classId as a string and unknown fields are accepted", class: classSpec{ext: "OK2", seats: 1},
				body: func(id int64) string {
					return `{"classId": "` + strconv.FormatInt(id, 10) + `", "color": "blue", "student": {"firstName": "Per", "lastName": "Berg", "shoeSize": 44}, "enroller": {"email": "per@example.no"}}`
				},
				status: 201, state: booking.Reserved, seats: 0, reserves: 1},
			{name: "provider refuses", class: classSpec{ext: "REFUSE1", seats: 3},
				status: 409, state: booking.Rejected, message: refuseMessage, seats: 3, reserves: 1},
			{name: "provider answers HTTP 500", class: classSpec{ext: "FAIL1", seats: 3},
				status: 502, state: booking.Abandoned, message: "did not answer", seats: 3, reserves: 1},
			{name: "provider never answers", class: classSpec{ext: "SLOW1", seats: 3},
				status: 502, state: booking.Abandoned, message: "did not answer", seats: 3, reserves: 1},
			{name: "no seats left", class: classSpec{ext: "FULL1", seats: 0},
				status: 409, message: "no seats left", seats: 0},
			{name: "enrollment closed", class: classSpec{ext: "LATE1", seats: 2, enrollment: -1},
				status: 409, message: "enrollment for class", seats: 2},
			{name: "malformed JSON", class: classSpec{ext: "BAD1", seats: 2},
				body:   func(int64) string { return `{"classId": 1, "student": ` },
				status: 400, message: "not valid JSON", seats: 2},
			{name: "wrong JSON type", class: classSpec{ext: "BAD2", seats: 2},
				body:   func(id int64) string { return fmt.Sprintf(`{"classId": %d, "student": {"firstName": 7}}`, id) },
				status: 400, message: "student.firstName: must be a JSON string", seats: 2},
			{name: "missing student name", class: classSpec{ext: "BAD3", seats: 2},
				body: func(id int64) string {
					return fmt.Sprintf(`{"classId": %d, "student": {"lastName": "Berg"}, "enroller": {"email": "per@example.no"}}`, id)
				},
				status: 400, message: "student.firstName: is required", seats: 2},
			{name: "unknown class", class: classSpec{ext: "NONE1", seats: 2},
				body:   func(int64) string { return bookBody(999999) },
				status: 404, message: "no class with id 999999", seats: 2},
			{name: "no token", class: classSpec{ext: "AUTH1", seats: 2}, token: "-",
				status: 401, message: "API token is required", seats: 2},
			{name: "wrong token", class: classSpec{ext: "AUTH2", seats: 2}, token: "tpk_" + strings.Repeat("A", 43),
				status: 401, message: "not valid", seats: 2},
			{name: "body over 64 KiB", class: classSpec{ext: "BIG1", seats: 2},
				body: func(id int64) string {
					return fmt.Sprintf(`{"classId": %d, "commentOnEnrollment": "%s"}`, id, strings.Repeat("x", 70<<10))
				},
				status: 413, message: "larger than 64 KiB", seats: 2},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e.t = t
				class := e.addClass(tc.class)
				body := bookBody(class.ID)
				if tc.body != nil {
					body = tc.body(class.ID)
				}
				token := e.token
				switch tc.token {
				case "-":
					token = ""
				case "":
				default:
					token = tc.token
				}
				r := e.do("POST", "/api/v1/bookings", token, body)
				if r.status != tc.status {
					t.Fatalf("status = %d, want %d; body %s", r.status, tc.status, r.body)
				}
				if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("Content-Type = %q", ct)
				}
				ref, state, msg := r.str(t, "bookingReference"), r.str(t, "status"), r.str(t, "errorMessage")
				if state != string(tc.state) {
					t.Errorf("status = %q, want %q", state, tc.state)
				}
				if (ref != "") != (tc.state != "") {
					t.Errorf("bookingReference = %q with state %q", ref, tc.state)
				}
				if tc.message == "" && msg != "" || !strings.Contains(msg, tc.message) {
					t.Errorf("errorMessage = %q, want it to contain %q", msg, tc.message)
				}
				if tc.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate = %q, want Bearer …", r.header.Get("WWW-Authenticate"))
				}
				if got := e.seats(class.ID); got != tc.seats {
					t.Errorf("availableSeats = %d, want %d", got, tc.seats)
				}
				if got := len(e.provider.calls(false, "externalCourseClassId", class.ExternalID)); got != tc.reserves {
					t.Errorf("reserve calls = %d, want %d", got, tc.reserves)
				}
				if ref == "" {
					if _, has := r.object(t)["student"]; has {
						t.Errorf("an answer without a booking has booking fields: %s", r.body)
					}
					return
				}
				// The booking, as the answer and GET show it.
				got := e.do("GET", "/api/v1/bookings/"+ref, e.token, "")
				if got.status != 200 || got.str(t, "status") != string(tc.state) || got.str(t, "bookingReference") != ref {
					t.Fatalf("GET booking = %d %s", got.status, got.body)
				}
				var b struct {
					ClassID                  int64  `json:"classId"`
					ExternalCourseClassID    string `json:"externalCourseClassId"`
					EnrollmentStatus         string `json:"enrollmentStatus"`
					ProviderBookingReference string `json:"providerBookingReference"`
					Message                  string `json:"message"`
					CreatedAt                string `json:"createdAt"`
					Documents                []any  `json:"documents"`
				}
				for _, body := range [][]byte{r.body, got.body} {
					if err := json.Unmarshal(body, &b); err != nil {
						t.Fatal(err)
					}
					if b.ClassID != class.ID || b.ExternalCourseClassID != class.ExternalID || b.Documents == nil || len(b.Documents) != 0 {
						t.Errorf("booking fields in %s", body)
					}
					if _, err := time.Parse(time.RFC3339, b.CreatedAt); err != nil {
						t.Errorf("createdAt %q: %v", b.CreatedAt, err)
					}
					switch tc.state {
					case booking.Reserved:
						if b.EnrollmentStatus != "NEW" || !strings.HasPrefix(b.ProviderBookingReference, "P-") {
							t.Errorf("reserved booking: %s", body)
						}
					case booking.Rejected:
						if b.Message != refuseMessage || b.ProviderBookingReference != "" {
							t.Errorf("rejected booking: %s", body)
						}
					}
				}
				calls := e.provider.calls(false, "trainingportalBookingReference", ref)
				if len(calls) != 1 || calls[0].Get("externalCourseClassId") != class.ExternalID {
					t.Errorf("reserve calls with trainingportalBookingReference=%s: %v", ref, calls)
				}
			})
		}

		t.Run("the reservation carries the enroller's data", func(t *testing.T) {
			e.t = t
			class := e.addClass(classSpec{ext: "DATA1", seats: 5})
			r := e.book(class.ID)
			calls := e.provider.calls(false, "trainingportalBookingReference", r.str(t, "bookingReference"))
			if len(calls) != 1 {
				t.Fatalf("reserve calls: %v", calls)
			}
			q := calls[0]
			for k, want := range map[string]string{
				"studentFirstName": "Kari", "studentLastName": "Nordmann", "studentEmailAddress": "kari@example.no",
				"studentBirthDate": "1990-04-12", "enrollerEmailAddress": "ola@acme-industri.no", "company": "Acme Industri AS",
			} {
				if q.Get(k) != want {
					t.Errorf("%s = %q, want %q", k, q.Get(k), want)
				}
			}
			var b struct {
				Student             map[string]string `json:"student"`
				Enroller            map[string]string `json:"enroller"`
				CommentOnEnrollment string            `json:"commentOnEnrollment"`
				PurchaseOrderNumber string            `json:"purchaseOrderNumber"`
			}
			if err := json.Unmarshal(r.body, &b); err != nil {
				t.Fatal(err)
			}
			if b.Student["birthDate"] != "1990-04-12" || b.Student["phone"] != "+47 912 34 567" || b.Enroller["lastName"] != "Hansen" ||
				b.CommentOnEnrollment != "Vegetarian lunch" || b.PurchaseOrderNumber != "PO-4711" {
				t.Errorf("booking fields: %s", r.body)
			}
			if loc := r.header.Get("Location"); loc != "/api/v1/bookings/"+r.str(t, "bookingReference") {
				t.Errorf("Location = %q", loc)
			}
		})

		t.Run("a provider without a reserve URL", func(t *testing.T) {
			e.t = t
			class := e.addClass(classSpec{course: &e.fa, ext: "NOURL1", seats: 2})
			r := e.do("POST", "/api/v1/bookings", e.token, bookBody(class.ID))
			if r.status != 409 || r.str(t, "bookingReference") != "" || e.seats(class.ID) != 2 {
				t.Errorf("= %d %s", r.status, r.body)
			}
		})

		t.Run("the last seat is booked once", func(t *testing.T) {
			e.t = t
			class := e.addClass(classSpec{ext: "LAST1", seats: 1})
			e.book(class.ID)
			r := e.do("POST", "/api/v1/bookings", e.token, bookBody(class.ID))
			if r.status != 409 || !strings.Contains(r.str(t, "errorMessage"), "no seats left") {
				t.Errorf("second booking = %d %s", r.status, r.body)
			}
			if got := len(e.provider.calls(false, "externalCourseClassId", "LAST1")); got != 1 {
				t.Errorf("reserve calls = %d, want 1", got)
			}
		})

		t.Run("a cancelled class", func(t *testing.T) {
			e.t = t
			class := e.addClass(classSpec{ext: "GONE1", seats: 3})
			e.book(class.ID) // a booked class is kept when cancelled
			if _, err := e.cat.CancelClass(context.Background(), e.acme, "BST", "GONE1"); err != nil {
				t.Fatal(err)
			}
			r := e.do("POST", "/api/v1/bookings", e.token, bookBody(class.ID))
			if r.status != 409 || !strings.Contains(r.str(t, "errorMessage"), "cancelled") {
				t.Errorf("= %d %s", r.status, r.body)
			}
		})

		t.Run("unknown booking", func(t *testing.T) {
			e.t = t
			for _, r := range []response{
				e.do("GET", "/api/v1/bookings/nope", e.token, ""),
				e.do("POST", "/api/v1/bookings/nope/cancel", e.token, ""),
			} {
				if r.status != 404 || r.str(t, "bookingReference") != "" || r.str(t, "errorMessage") == "" {
					t.Errorf("= %d %s", r.status, r.body)
				}
			}
		})

		t.Run("GET a booking needs a token", func(t *testing.T) {
			e.t = t
			ref := e.book(e.addClass(classSpec{ext: "TOK1", seats: 2}).ID).str(t, "bookingReference")
			r := e.do("GET", "/api/v1/bookings/"+ref, "", "")
			if r.status != 401 || strings.Contains(string(r.body), "Kari") || r.header.Get("WWW-Authenticate") != `Bearer realm="tportal"` {
				t.Errorf("= %d %s %v", r.status, r.body, r.header)
			}
			r = e.do("GET", "/api/v1/bookings/"+ref, "tpk_wrong", "")
			if r.status != 401 || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("= %d %s %v", r.status, r.body, r.header)
			}
		})
	})
}

func TestCancel(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		cases := []struct {
			name    string
			class   classSpec
			status  int
			state   booking.State // after the cancel
			message string
			seats   int // afterwards, of 3
			cancels int // cancel calls the provider received
		}{
			{name: "cancelled", class: classSpec{ext: "OK1"}, status: 200, state: booking.Cancelled, seats: 3, cancels: 1},
			{name: "provider refuses", class: classSpec{ext: "KEEP1"}, status: 409, state: booking.Reserved, message: keepMessage, seats: 2, cancels: 1},
			{name: "provider never answers", class: classSpec{ext: "MUTE1"}, status: 502, state: booking.Reserved, message: "did not answer", seats: 2, cancels: 1},
			{name: "after the cancellation deadline", class: classSpec{ext: "LATE1", cancelLast: -1}, status: 409, state: booking.Reserved, message: "cancellation deadline", seats: 2},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e.t = t
				tc.class.seats = 3
				class := e.addClass(tc.class)
				booked := e.book(class.ID)
				ref, providerRef := booked.str(t, "bookingReference"), booked.str(t, "providerBookingReference")
				if e.seats(class.ID) != 2 {
					t.Fatalf("seat not taken")
				}
				r := e.do("POST", "/api/v1/bookings/"+ref+"/cancel", e.token, "")
				if r.status != tc.status {
					t.Fatalf("status = %d, want %d; body %s", r.status, tc.status, r.body)
				}
				if msg := r.str(t, "errorMessage"); tc.message == "" && msg != "" || !strings.Contains(msg, tc.message) {
					t.Errorf("errorMessage = %q, want %q", msg, tc.message)
				}
				if r.str(t, "bookingReference") != ref || r.str(t, "status") != string(tc.state) {
					t.Errorf("answer: %s", r.body)
				}
				if got := e.do("GET", "/api/v1/bookings/"+ref, e.token, "").str(t, "status"); got != string(tc.state) {
					t.Errorf("GET status = %q, want %q", got, tc.state)
				}
				if tc.name == "provider refuses" && r.str(t, "message") != keepMessage {
					t.Errorf("message = %q, want the provider's %q", r.str(t, "message"), keepMessage)
				}
				if got := e.seats(class.ID); got != tc.seats {
					t.Errorf("availableSeats = %d, want %d", got, tc.seats)
				}
				calls := e.provider.calls(true, "trainingportalBookingReference", ref)
				if len(calls) != tc.cancels {
					t.Fatalf("cancel calls = %v, want %d", calls, tc.cancels)
				}
				for _, q := range calls {
					if q.Get("bookingReference") != providerRef || providerRef == "" {
						t.Errorf("cancel call bookingReference = %q, want the provider's %q", q.Get("bookingReference"), providerRef)
					}
				}
			})
		}

		t.Run("cancelling twice", func(t *testing.T) {
			e.t = t
			class := e.addClass(classSpec{ext: "TWICE1", seats: 3})
			ref := e.book(class.ID).str(t, "bookingReference")
			for i := range 2 {
				r := e.do("POST", "/api/v1/bookings/"+ref+"/cancel", e.token, "")
				if r.status != 200 || r.str(t, "status") != "CANCELLED" {
					t.Errorf("cancel %d = %d %s", i+1, r.status, r.body)
				}
			}
			if got := e.seats(class.ID); got != 3 {
				t.Errorf("availableSeats = %d, want 3 (the seat given back once)", got)
			}
			if got := len(e.provider.calls(true, "trainingportalBookingReference", ref)); got != 1 {
				t.Errorf("cancel calls = %d, want 1", got)
			}
		})

		t.Run("a rejected booking cannot be cancelled", func(t *testing.T) {
			e.t = t
			class := e.addClass(classSpec{ext: "REFUSE1", seats: 3})
			ref := e.do("POST", "/api/v1/bookings", e.token, bookBody(class.ID)).str(t, "bookingReference")
			r := e.do("POST", "/api/v1/bookings/"+ref+"/cancel", e.token, "")
			if r.status != 409 || r.str(t, "status") != "REJECTED" || e.seats(class.ID) != 3 {
				t.Errorf("= %d %s", r.status, r.body)
			}
		})

		t.Run("cancel needs a token", func(t *testing.T) {
			e.t = t
			class := e.addClass(classSpec{ext: "TOK1", seats: 3})
			ref := e.book(class.ID).str(t, "bookingReference")
			r := e.do("POST", "/api/v1/bookings/"+ref+"/cancel", "", "")
			if r.status != 401 || e.seats(class.ID) != 2 || len(e.provider.calls(true, "trainingportalBookingReference", ref)) != 0 {
				t.Errorf("= %d %s", r.status, r.body)
			}
		})
	})
}

// classJSON is a class as GET /api/v1/classes shows it.
type classJSON struct {
	ID                   int64   `json:"id"`
	CourseID             int64   `json:"courseId"`
	ExternalID           string  `json:"externalId"`
	CourseExternalID     string  `json:"courseExternalId"`
	Cancelled            bool    `json:"cancelled"`
	Location             string  `json:"location"`
	AvailableSeats       int     `json:"availableSeats"`
	EnrollmentDeadline   string  `json:"enrollmentDeadline"`
	CancellationDeadline string  `json:"cancellationDeadline"`
	StartDate            string  `json:"startDate"`
	StartTime            *string `json:"startTime"`
	EndDate              string  `json:"endDate"`
	EndTime              *string `json:"endTime"`
	TimeZone             string  `json:"timeZone"`
	Address              struct {
		AddressLine1, AddressLine2, City, ZipCode, Country string
	} `json:"address"`
	Price struct {
		Currency string      `json:"currency"`
		Amount   json.Number `json:"amount"`
	} `json:"price"`
	SendScheduleInfoToParticipants *bool `json:"sendScheduleInfoToParticipants"`
}

func TestCatalogue(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := context.Background()
		oslo := e.addClass(classSpec{ext: "A1", location: "Oslo sentrum", seats: 5, start: 10, enrollment: 5, cancelLast: 5})
		bergen := e.addClass(classSpec{ext: "A2", location: "Bergen", seats: 0, start: 20, enrollment: 5, cancelLast: 5})
		alesund := e.addClass(classSpec{ext: "A3", location: "ÅLESUND havn", seats: 2, start: 30, enrollment: 5, cancelLast: 5})
		nordOslo := e.addClass(classSpec{course: &e.fa, ext: "B1", location: "Oslo", seats: 1, start: 15, enrollment: 5, cancelLast: 5})
		deleted := e.addClass(classSpec{ext: "A4", location: "Oslo", seats: 9, start: 12, enrollment: 5, cancelLast: 5})
		// A booked class stays, cancelled, when the provider cancels it; an unbooked one is deleted.
		e.book(alesund.ID)
		for _, ext := range []string{"A3", "A4"} {
			if _, err := e.cat.CancelClass(ctx, e.acme, "BST", ext); err != nil {
				t.Fatal(err)
			}
		}
		_ = deleted

		t.Run("courses", func(t *testing.T) {
			e.t = t
			r := e.do("GET", "/api/v1/courses", e.token, "")
			var got []map[string]any
			if err := json.Unmarshal(r.body, &got); r.status != 200 || err != nil {
				t.Fatalf("= %d %s", r.status, r.body)
			}
			want := []map[string]any{
				{"id": float64(e.bst.ID), "externalCourseId": "BST", "name": "Basic Safety", "description": "GWO basic safety", "providerName": "Acme Safety AS"},
				{"id": float64(e.fa.ID), "externalCourseId": "FA", "name": "First Aid", "description": "First aid at work", "providerName": "Nord Kurs"},
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("courses =\n%v\nwant\n%v", got, want)
			}
			if r := e.do("GET", "/api/v1/courses", "", ""); r.status != 401 || r.str(t, "errorMessage") == "" {
				t.Errorf("without a token: %d %s", r.status, r.body)
			}
		})

		t.Run("a class's fields", func(t *testing.T) {
			e.t = t
			r := e.do("GET", "/api/v1/classes?course="+strconv.FormatInt(e.bst.ID, 10)+"&location=sentrum", e.token, "")
			var got []classJSON
			if err := json.Unmarshal(r.body, &got); r.status != 200 || err != nil || len(got) != 1 {
				t.Fatalf("= %d %s", r.status, r.body)
			}
			c := got[0]
			if c.ID != oslo.ID || c.CourseID != e.bst.ID || c.ExternalID != "A1" || c.CourseExternalID != "BST" || c.Cancelled ||
				c.Location != "Oslo sentrum" || c.AvailableSeats != 5 || c.StartDate != day(10) || c.EndDate != day(10) ||
				c.EnrollmentDeadline != day(5) || c.CancellationDeadline != day(5) ||
				c.StartTime == nil || *c.StartTime != "09:00" || c.EndTime == nil || *c.EndTime != "15:30" || c.TimeZone != "Europe/Oslo" ||
				c.Address.AddressLine1 != "Storgata 1" || c.Address.City != "Oslo sentrum" || c.Address.ZipCode != "0155" || c.Address.Country != "NO" ||
				c.Price.Currency != "NOK" || c.Price.Amount != "4500.50" ||
				c.SendScheduleInfoToParticipants == nil || !*c.SendScheduleInfoToParticipants {
				t.Errorf("class = %s", r.body)
			}
		})

		ids := func(list []classJSON) string {
			var s []string
			for _, c := range list {
				x := c.ExternalID
				if c.Cancelled {
					x += "(cancelled)"
				}
				s = append(s, x)
			}
			return strings.Join(s, " ")
		}
		filters := []struct {
			name, query string
			status      int
			want        string // external ids in order, or a substring of errorMessage
		}{
			{"no filter: live classes by start, cancelled included", "", 200, "A1 B1 A2 A3(cancelled)"},
			{"course", "course=" + strconv.FormatInt(e.bst.ID, 10), 200, "A1 A2 A3(cancelled)"},
			{"other course", "course=" + strconv.FormatInt(e.fa.ID, 10), 200, "B1"},
			{"unknown course", "course=99999", 200, ""},
			{"location, any case", "location=OSLO", 200, "A1 B1"},
			{"location, Unicode case", "location=%C3%A5lesund", 200, "A3(cancelled)"},
			{"location substring", "location=erge", 200, "A2"},
			{"from", "from=" + day(15), 200, "B1 A2 A3(cancelled)"},
			{"to", "to=" + day(15), 200, "A1 B1"},
			{"from and to, inclusive", "from=" + day(15) + "&to=" + day(20), 200, "B1 A2"},
			{"same day", "from=" + day(10) + "&to=" + day(10), 200, "A1"},
			{"free seats", "freeSeats=true", 200, "A1 B1 A3(cancelled)"},
			{"free seats false filters nothing", "freeSeats=false", 200, "A1 B1 A2 A3(cancelled)"},
			{"combined", "location=oslo&freeSeats=true&from=" + day(11), 200, "B1"},
			{"from after to", "from=" + day(20) + "&to=" + day(10), 400, "is after to"},
			{"bad date", "from=2030-13-01", 400, "from: "},
			{"bad course", "course=abc", 400, "course: "},
			{"bad freeSeats", "freeSeats=maybe", 400, "freeSeats: "},
		}
		for _, f := range filters {
			t.Run("classes: "+f.name, func(t *testing.T) {
				e.t = t
				r := e.do("GET", "/api/v1/classes?"+f.query, e.token, "")
				if r.status != f.status {
					t.Fatalf("status = %d, want %d; %s", r.status, f.status, r.body)
				}
				if f.status != 200 {
					if msg := r.str(t, "errorMessage"); !strings.Contains(msg, f.want) {
						t.Errorf("errorMessage = %q, want %q", msg, f.want)
					}
					return
				}
				var got []classJSON
				if err := json.Unmarshal(r.body, &got); err != nil || got == nil {
					t.Fatalf("body %s: %v (want an array, [] when empty)", r.body, err)
				}
				if ids(got) != f.want {
					t.Errorf("classes = %q, want %q", ids(got), f.want)
				}
			})
		}
		_, _ = bergen, nordOslo

		t.Run("classes need a token", func(t *testing.T) {
			e.t = t
			r := e.do("GET", "/api/v1/classes", "", "")
			if r.status != 401 || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("= %d %s", r.status, r.body)
			}
		})
	})
}

func TestRoutes(t *testing.T) {
	e := newEnv(t, "sqlite")
	for _, c := range []struct{ method, path, allow string }{
		{"DELETE", "/api/v1/bookings", "POST, GET, HEAD"},
		{"DELETE", "/api/v1/classes", "GET, HEAD"},
		{"POST", "/api/v1/courses", "GET, HEAD"},
		{"GET", "/api/v1/bookings/x/cancel", "POST"},
	} {
		r := e.do(c.method, c.path, e.token, "")
		if r.status != 405 || r.header.Get("Allow") != c.allow || r.str(t, "errorMessage") == "" {
			t.Errorf("%s %s = %d %v %s", c.method, c.path, r.status, r.header, r.body)
		}
	}
	r := e.do("GET", "/api/v1/nothing", e.token, "")
	if r.status != 404 || r.str(t, "errorMessage") == "" {
		t.Errorf("unknown path = %d %s", r.status, r.body)
	}
}

func TestTokens(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := storetest.Open(t, dialect)
		token, hash := auth.NewToken()
		if !strings.HasPrefix(token, "tpk_") || len(token) != 4+43 || hash != auth.HashToken(token) || len(hash) != 64 {
			t.Errorf("NewToken = %q, %q", token, hash)
		}
		if other, _ := auth.NewToken(); other == token {
			t.Error("two tokens are equal")
		}
		id, err := db.CreateToken(ctx, "Acme intranet", hash, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateToken(ctx, "again", hash, nil); err == nil {
			t.Error("a hash stored twice")
		}
		check := &auth.TokenAuth{Store: db}
		got, err := check.CheckToken(ctx, token)
		if err != nil || got.ID != id || got.Name != "Acme intranet" || got.CreatedAt.IsZero() {
			t.Errorf("CheckToken = %+v, %v", got, err)
		}
		for _, bad := range []string{"", "tpk_x", token[:len(token)-1], hash, strings.ToUpper(token)} {
			if _, err := check.CheckToken(ctx, bad); err == nil {
				t.Errorf("CheckToken(%q) accepted", bad)
			}
		}
		list, err := db.Tokens(ctx)
		if err != nil || len(list) != 1 || list[0].Name != "Acme intranet" {
			t.Errorf("Tokens = %+v, %v", list, err)
		}
	})
}

// Documents a provider uploads are listed on the booking and can be downloaded.
func TestDocuments(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		class := e.addClass(classSpec{ext: "DOC", seats: 3})
		ref := e.book(class.ID).str(t, "bookingReference")
		other := e.book(class.ID).str(t, "bookingReference")
		pdf := []byte("%PDF-1.7\n% a certificate\n%%EOF\n")
		doc, err := e.bookings.AddDocument(context.Background(), e.acme, ref, "", "certificate.pdf", pdf)
		if err != nil {
			t.Fatal(err)
		}

		r := e.do("GET", "/api/v1/bookings/"+ref, e.token, "")
		var got struct {
			Documents []struct {
				ID          int64  `json:"id"`
				Type        string `json:"documentType"`
				FileName    string `json:"fileName"`
				ContentType string `json:"contentType"`
				Size        int64  `json:"size"`
				URL         string `json:"url"`
			} `json:"documents"`
		}
		if err := json.Unmarshal(r.body, &got); err != nil || len(got.Documents) != 1 {
			t.Fatalf("booking = %s (%v)", r.body, err)
		}
		d := got.Documents[0]
		wantURL := "/api/v1/bookings/" + ref + "/documents/" + strconv.FormatInt(doc.ID, 10)
		if d.ID != doc.ID || d.Type != "COURSE_CERTIFICATE" || d.FileName != "certificate.pdf" || d.ContentType != "application/pdf" ||
			d.Size != int64(len(pdf)) || d.URL != wantURL {
			t.Errorf("document = %+v, want url %s", d, wantURL)
		}

		r = e.do("GET", d.URL, e.token, "")
		if r.status != 200 || string(r.body) != string(pdf) || r.header.Get("Content-Type") != "application/pdf" ||
			!strings.Contains(r.header.Get("Content-Disposition"), `filename=certificate.pdf`) {
			t.Errorf("download: %d %q %v", r.status, r.body, r.header)
		}
		for _, tt := range []struct {
			path, token string
			status      int
		}{
			{d.URL, "", 401},
			{"/api/v1/bookings/" + other + "/documents/" + strconv.FormatInt(doc.ID, 10), e.token, 404},
			{"/api/v1/bookings/" + ref + "/documents/999999", e.token, 404},
			{"/api/v1/bookings/" + ref + "/documents/x", e.token, 404},
			{"/api/v1/bookings/nope/documents/1", e.token, 404},
		} {
			if r := e.do("GET", tt.path, tt.token, ""); r.status != tt.status {
				t.Errorf("GET %s: %d, want %d (%s)", tt.path, r.status, tt.status, r.body)
			}
		}

		// A booking made a moment ago is answered without reading its documents; a
		// repeated request answers the booking an earlier one made, which has them.
		documents := func(r response) int {
			var got struct {
				Documents []json.RawMessage `json:"documents"`
			}
			if err := json.Unmarshal(r.body, &got); err != nil || got.Documents == nil {
				t.Fatalf("booking = %d %s (%v)", r.status, r.body, err)
			}
			return len(got.Documents)
		}
		first := e.doKey("doc-1", bookBody(class.ID))
		if n := documents(first); first.status != 201 || n != 0 {
			t.Fatalf("new booking = %d with %d documents", first.status, n)
		}
		if _, err := e.bookings.AddDocument(context.Background(), e.acme, first.str(t, "bookingReference"), "", "c.pdf", pdf); err != nil {
			t.Fatal(err)
		}
		if r := e.doKey("doc-1", bookBody(class.ID)); r.status != 201 || documents(r) != 1 {
			t.Errorf("repeated request = %d %s, want its booking's document", r.status, r.body)
		}
	})
}

// doKey sends a booking request with an Idempotency-Key.
func (e *env) doKey(key, body string) response {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.url+"/api/v1/bookings", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	res, err := validatingClient(e.t).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// A booking request repeated with the same Idempotency-Key — a client retrying after
// a lost answer, even many at once — makes one booking and gets it back each time.
func TestIdempotentBooking(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		class := e.addClass(classSpec{ext: "IDEM", seats: 5})
		body := bookBody(class.ID)

		first := e.doKey("order-4711", body)
		if first.status != 201 {
			t.Fatalf("first request = %d %s", first.status, first.body)
		}
		ref := first.str(t, "bookingReference")

		var wg sync.WaitGroup
		refs := make(chan string, 10)
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.doKey("order-4711", body)
				if r.status != 201 {
					t.Errorf("repeat = %d %s", r.status, r.body)
					return
				}
				refs <- r.str(t, "bookingReference")
			}()
		}
		wg.Wait()
		close(refs)
		for got := range refs {
			if got != ref {
				t.Errorf("a repeat made booking %s, want %s", got, ref)
			}
		}
		if n := len(e.provider.calls(false, "externalCourseClassId", "IDEM")); n != 1 {
			t.Errorf("the provider got %d reserve calls, want 1", n)
		}
		if seats := e.seats(class.ID); seats != 4 {
			t.Errorf("availableSeats = %d, want 4", seats)
		}

		// The same key for another request is refused; another key books again;
		// another token's same key is another booking.
		other := strings.Replace(body, `"Kari"`, `"Per"`, 1)
		if r := e.doKey("order-4711", other); r.status != 409 || !strings.Contains(r.str(t, "errorMessage"), "Idempotency-Key") {
			t.Errorf("same key, other request = %d %s", r.status, r.body)
		}
		if r := e.doKey("order-4712", body); r.status != 201 || r.str(t, "bookingReference") == ref {
			t.Errorf("new key = %d %s", r.status, r.body)
		}
		token, hash := auth.NewToken()
		if _, err := e.db.CreateToken(context.Background(), "second", hash, nil); err != nil {
			t.Fatal(err)
		}
		e.token = token
		if r := e.doKey("order-4711", body); r.status != 201 || r.str(t, "bookingReference") == ref {
			t.Errorf("another token's same key = %d %s", r.status, r.body)
		}
		if r := e.doKey(strings.Repeat("k", 256), body); r.status != 400 {
			t.Errorf("a 256-character key = %d, want 400", r.status)
		}

		// Eight first requests at once: one booking; the others get it, or are told
		// it is still in progress.
		burst := e.addClass(classSpec{ext: "BURST", seats: 5})
		var mu sync.Mutex
		made := map[string]bool{}
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.doKey("burst-1", bookBody(burst.ID))
				switch {
				case r.status == 201:
					mu.Lock()
					made[r.str(t, "bookingReference")] = true
					mu.Unlock()
				case r.status == 409 && strings.Contains(r.str(t, "errorMessage"), "still waiting"):
				default:
					t.Errorf("burst request = %d %s", r.status, r.body)
				}
			}()
		}
		wg.Wait()
		if len(made) > 1 {
			t.Errorf("one key made %d bookings", len(made))
		}
		if n := len(e.provider.calls(false, "externalCourseClassId", "BURST")); n != 1 {
			t.Errorf("the provider got %d reserve calls for the burst, want 1", n)
		}
		if seats := e.seats(burst.ID); seats != 4 {
			t.Errorf("burst class availableSeats = %d, want 4", seats)
		}
	})
}
