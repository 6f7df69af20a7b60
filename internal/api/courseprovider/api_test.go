package courseprovider_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/api/courseprovider"
	"github.com/tportal/tportal/internal/auth"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/providercall"
	"github.com/tportal/tportal/internal/server"
	"github.com/tportal/tportal/internal/store"
	"github.com/tportal/tportal/internal/store/storetest"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"
)

func TestMain(m *testing.M) {
	auth.BcryptCost = bcrypt.MinCost // the race detector makes default-cost hashes take a second each
	os.Exit(m.Run())
}

// portal is a real portal over a real database, served by a real HTTP server.
type portal struct {
	t        testing.TB
	dbURL    string
	db       *store.DB
	catalog  *catalog.Service
	bookings *booking.Service
	auth     *auth.Authenticator
	root     string // the server's URL
	base     string // .../api/courseprovider/rest/v1/courses/get
	// credentials of two providers: acme owns course BST, other owns course FA and
	// its own course with the external id BST2.
	acme, other url.Values
}

func newPortal(t testing.TB, dialect string) *portal {
	t.Helper()
	return newPortalAt(t, storetest.URL(t, dialect), nil)
}

// newPortalAt is newPortal on the database at dbURL. With a first portal given, the
// database is that portal's and is not seeded again: a second instance sharing it,
// with its own store, caches and server, and the first one's credentials.
func newPortalAt(t testing.TB, dbURL string, first *portal) *portal {
	t.Helper()
	db, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	cat := &catalog.Service{Store: db, DefaultZone: "Europe/Oslo"}
	ctx := context.Background()
	creds := map[string]url.Values{}
	seeds := []struct{ user, course string }{{"acme", "BST"}, {"other", "FA"}}
	if first != nil {
		seeds, creds["acme"], creds["other"] = nil, first.acme, first.other
	}
	for _, p := range seeds {
		password, hash, err := auth.NewPassword()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cat.AddProvider(ctx, catalog.Provider{Name: p.user, Username: p.user, PasswordHash: hash}); err != nil {
			t.Fatal(err)
		}
		if _, err := cat.AddCourse(ctx, p.user, catalog.Course{Name: p.course + " course", ExternalID: p.course, Description: "about " + p.course}); err != nil {
			t.Fatal(err)
		}
		creds[p.user] = url.Values{"username": {p.user}, "password": {password}}
	}
	reg := server.NewRegistry()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	bookings := &booking.Service{Store: db, Caller: providercall.BookingCaller{Client: providercall.New(providercall.Options{
		AllowPrivateURLs: true, Timeout: 2 * time.Second})}}
	authn := auth.New(db)
	api := &courseprovider.API{Catalog: cat, Bookings: bookings, Auth: authn}
	srv := httptest.NewServer(server.Handler(db, reg, server.NewMetrics(reg), logger, api))
	t.Cleanup(srv.Close)
	return &portal{t: t, dbURL: dbURL, db: db, catalog: cat, bookings: bookings, auth: authn, root: srv.URL, base: srv.URL + "/api/courseprovider/rest/v1/courses/get", acme: creds["acme"], other: creds["other"]}
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

func (r response) errorMessage(t *testing.T) string {
	t.Helper()
	msg, _ := r.json(t)["errorMessage"].(string)
	return msg
}

// post sends form values (credentials merged in) as a urlencoded POST.
func (p *portal) post(path string, creds url.Values, form url.Values) response {
	p.t.Helper()
	v := url.Values{}
	for k, vs := range creds {
		v[k] = vs
	}
	for k, vs := range form {
		v[k] = vs
	}
	req, _ := http.NewRequest("POST", p.base+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return p.do(req)
}

func (p *portal) do(req *http.Request) response {
	p.t.Helper()
	res, err := validatingClient(p.t).Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func classForm(externalID string) url.Values {
	return url.Values{
		"externalId": {externalID}, "location": {"Oslo"}, "availableSeats": {"12"},
		"enrollmentDeadline": {"2030-09-20"}, "cancellationDeadline": {"2030-09-25"},
		"startDate": {"2030-10-01"}, "startTime": {"09:00"}, "endDate": {"2030-10-03"}, "endTime": {"15:30"},
		"address.addressLine1": {"Karl Johans gate 1"}, "address.city": {"Oslo"}, "address.zipCode": {"0154"},
		"address.country": {"NO"}, "price.currency": {"NOK"}, "price.amount": {"12500.50"},
	}
}

func expect(t *testing.T, what string, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d; body %s", what, r.status, status, r.body)
	}
}

// TestClassLifecycle walks a provider through the catalogue with only the documented
// parameters, on each database.
func TestClassLifecycle(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		p := newPortal(t, dialect)

		r := p.post("/BST/courseClasses/add", p.acme, classForm("W40"))
		expect(t, "addClass", r, 200)
		c := r.json(t)
		if c["externalId"] != "W40" || c["courseExternalId"] != "BST" || c["cancelled"] != false ||
			c["availableSeats"] != 12.0 || c["sendScheduleInfoToParticipants"] != true || c["timeZone"] != "Europe/Oslo" {
			t.Errorf("addClass answered %s", r.body)
		}
		if !strings.Contains(string(r.body), `"amount":12500.50`) {
			t.Errorf("price not exact in %s", r.body)
		}

		expect(t, "addClass again", p.post("/BST/courseClasses/add", p.acme, classForm("W40")), 409)

		// Read back in JSON and XML.
		r = p.post("/BST/courseClasses", p.acme, nil)
		expect(t, "getCourseClasses", r, 200)
		var list []map[string]any
		if err := json.Unmarshal(r.body, &list); err != nil || len(list) != 1 || list[0]["location"] != "Oslo" {
			t.Fatalf("getCourseClasses = %s (%v)", r.body, err)
		}
		req, _ := http.NewRequest("GET", p.base+"/BST/courseClasses?"+p.acme.Encode(), nil)
		req.Header.Set("Accept", "application/xml")
		r = p.do(req)
		expect(t, "getCourseClasses XML", r, 200)
		var x struct {
			Classes []struct {
				ExternalID string `xml:"externalId"`
				Seats      int    `xml:"availableSeats"`
				Amount     string `xml:"price>amount"`
				City       string `xml:"address>city"`
			} `xml:"courseClass"`
		}
		if err := xml.Unmarshal(r.body, &x); err != nil || len(x.Classes) != 1 || x.Classes[0].ExternalID != "W40" ||
			x.Classes[0].Seats != 12 || x.Classes[0].Amount != "12500.50" || x.Classes[0].City != "Oslo" {
			t.Fatalf("XML = %s (%v)", r.body, err)
		}
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/xml") {
			t.Errorf("XML Content-Type = %q", ct)
		}

		// Update the seats only, with the documented misspelt deadline name.
		r = p.post("/BST/courseClasses/update", p.acme, url.Values{"externalId": {"W40"}, "availableSeats": {"3"}, "erollmentDeadline": {"2030-09-21"}})
		expect(t, "updateClass", r, 200)
		c = r.json(t)
		if c["availableSeats"] != 3.0 || c["enrollmentDeadline"] != "2030-09-21" || c["location"] != "Oslo" || c["startTime"] != "09:00" {
			t.Errorf("updateClass answered %s", r.body)
		}
		expect(t, "update unknown", p.post("/BST/courseClasses/update", p.acme, url.Values{"externalId": {"NOPE"}, "availableSeats": {"1"}}), 404)
		expect(t, "restore published", p.post("/BST/courseClasses/restore/W40", p.acme, nil), 409)

		// Cancel without bookings: deleted at once.
		r = p.post("/BST/courseClasses/cancel/W40", p.acme, nil)
		expect(t, "cancelClass", r, 200)
		if m := r.json(t); m["successful"] != true || m["errorMessage"] != "" {
			t.Errorf("cancelClass answered %s", r.body)
		}
		expect(t, "restore deleted", p.post("/BST/courseClasses/restore/W40", p.acme, nil), 404)
		expect(t, "cancel deleted", p.post("/BST/courseClasses/cancel/W40", p.acme, nil), 404)
		r = p.post("/BST/courseClasses", p.acme, nil)
		if strings.TrimSpace(string(r.body)) != "[]" {
			t.Errorf("classes after delete = %s", r.body)
		}
		expect(t, "add the same externalId again", p.post("/BST/courseClasses/add", p.acme, classForm("W40")), 200)
	})
}

// A class with bookings stays after cancelClass: listed as cancelled, not updatable,
// restorable.
func TestCancelledBookedClassIsKeptAndRestorable(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		p := newPortal(t, dialect)
		expect(t, "add", p.post("/BST/courseClasses/add", p.acme, classForm("W41")), 200)
		// Stand in for the booking engine, which marks a class in the transaction that
		// takes its first seat.
		if _, err := p.db.SQL().Exec(`UPDATE classes SET ever_booked = TRUE`); err != nil {
			t.Fatal(err)
		}
		expect(t, "cancel", p.post("/BST/courseClasses/cancel/W41", p.acme, nil), 200)
		expect(t, "cancel again", p.post("/BST/courseClasses/cancel/W41", p.acme, nil), 409)
		r := p.post("/BST/courseClasses", p.acme, nil)
		if !strings.Contains(string(r.body), `"cancelled":true`) {
			t.Errorf("cancelled class not listed as cancelled: %s", r.body)
		}
		r = p.post("/BST/courseClasses/update", p.acme, url.Values{"externalId": {"W41"}, "location": {"Bergen"}})
		expect(t, "update cancelled", r, 409)
		if !strings.Contains(r.errorMessage(t), "restore") {
			t.Errorf("409 message does not say to restore: %q", r.errorMessage(t))
		}
		expect(t, "add same externalId while cancelled", p.post("/BST/courseClasses/add", p.acme, classForm("W41")), 409)
		expect(t, "restore", p.post("/BST/courseClasses/restore/W41", p.acme, nil), 200)
		r = p.post("/BST/courseClasses/update", p.acme, url.Values{"externalId": {"W41"}, "location": {"Bergen"}})
		expect(t, "update restored", r, 200)
		if m := r.json(t); m["cancelled"] != false || m["location"] != "Bergen" {
			t.Errorf("restored class = %s", r.body)
		}
	})
}

func TestBadInputGetsAClearError(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		p := newPortal(t, dialect)
		with := func(k, v string) url.Values {
			f := classForm("X1")
			if v == "" {
				f.Del(k)
			} else {
				f.Set(k, v)
			}
			return f
		}
		tests := []struct {
			name   string
			path   string
			creds  url.Values
			form   url.Values
			status int
			want   string
		}{
			{"missing field", "/BST/courseClasses/add", p.acme, with("location", ""), 400, "location: is required"},
			{"bad date", "/BST/courseClasses/add", p.acme, with("startDate", "2030-13-01"), 400, "startDate:"},
			{"negative seats", "/BST/courseClasses/add", p.acme, with("availableSeats", "-1"), 400, "availableSeats: must be zero or a positive number"},
			{"unknown currency", "/BST/courseClasses/add", p.acme, with("price.currency", "SEK"), 400, "price.currency:"},
			{"bad amount", "/BST/courseClasses/add", p.acme, with("price.amount", "12.345"), 400, "price.amount:"},
			{"wrong password", "/BST/courseClasses/add", url.Values{"username": {"acme"}, "password": {"wrong-password!"}}, classForm("X1"), 401, "wrong username or password"},
			{"unknown user", "/BST/courseClasses", url.Values{"username": {"nobody"}, "password": {"whatever-long"}}, nil, 401, "wrong username or password"},
			{"no credentials", "/BST/courseClasses", nil, nil, 401, "username and password are required"},
			{"someone else's course", "/FA/courseClasses/add", p.acme, classForm("X1"), 403, "belongs to another provider"},
			{"someone else's classes", "/FA/courseClasses", p.acme, nil, 403, "belongs to another provider"},
			{"unknown course", "/NOPE/courseClasses", p.acme, nil, 404, "no course with externalCourseId"},
			{"update without externalId", "/BST/courseClasses/update", p.acme, url.Values{"location": {"x"}}, 400, "externalId: is required"},
			{"unknown method", "/BST/courseClasses/frobnicate", p.acme, nil, 404, "no API method"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := p.post(tt.path, tt.creds, tt.form)
				expect(t, tt.name, r, tt.status)
				if msg := r.errorMessage(t); !strings.Contains(msg, tt.want) {
					t.Errorf("errorMessage %q does not contain %q", msg, tt.want)
				}
			})
		}
		// Nothing bad was stored.
		if r := p.post("/BST/courseClasses", p.acme, nil); strings.TrimSpace(string(r.body)) != "[]" {
			t.Errorf("a rejected call stored something: %s", r.body)
		}
	})
}

// The conventions: GET with query, Basic auth, multipart, XML errors, dotted and bare names.
func TestConventions(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		p := newPortal(t, dialect)

		// GET with everything in the query string.
		q := classForm("Q1")
		for k, vs := range p.acme {
			q[k] = vs
		}
		expect(t, "addClass by GET", p.do(mustReq(t, "GET", p.base+"/BST/courseClasses/add?"+q.Encode(), nil)), 200)

		// HTTP Basic and multipart/form-data, bare nested names.
		var body strings.Builder
		form := classForm("M1")
		form.Del("address.city")
		form.Set("city", "Bergen")
		boundary := "XyZ"
		for k, vs := range form {
			body.WriteString("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + k + "\"\r\n\r\n" + vs[0] + "\r\n")
		}
		body.WriteString("--" + boundary + "--\r\n")
		// The body's value wins over the query's, as for urlencoded bodies.
		req := mustReq(t, "POST", p.base+"/BST/courseClasses/add?location=FromQuery", strings.NewReader(body.String()))
		req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
		req.SetBasicAuth("acme", p.acme.Get("password"))
		r := p.do(req)
		expect(t, "multipart + Basic", r, 200)
		if r.json(t)["address"].(map[string]any)["city"] != "Bergen" {
			t.Errorf("bare nested name not read: %s", r.body)
		}
		if r.json(t)["location"] != "Oslo" {
			t.Errorf("the query's location won over the body's: %s", r.body)
		}

		// getCourses lists only the caller's courses.
		r = p.post("", p.acme, nil)
		expect(t, "getCourses", r, 200)
		var courses []map[string]any
		if err := json.Unmarshal(r.body, &courses); err != nil || len(courses) != 1 || courses[0]["externalCourseId"] != "BST" || courses[0]["name"] != "BST course" {
			t.Errorf("getCourses = %s", r.body)
		}

		// Errors in XML.
		req = mustReq(t, "GET", p.base+"/BST/courseClasses?username=acme&password=nope-nope-nope", nil)
		req.Header.Set("Accept", "text/xml")
		r = p.do(req)
		expect(t, "XML error", r, 401)
		var xe struct {
			XMLName xml.Name `xml:"error"`
			Msg     string   `xml:"errorMessage"`
		}
		if err := xml.Unmarshal(r.body, &xe); err != nil || xe.Msg == "" {
			t.Errorf("XML error body %s (%v)", r.body, err)
		}

		// Methods other than GET and POST.
		r = p.do(mustReq(t, "DELETE", p.base+"/BST/courseClasses?"+p.acme.Encode(), nil))
		expect(t, "DELETE", r, 405)
		if r.header.Get("Allow") != "GET, HEAD, POST" || !strings.Contains(r.errorMessage(t), "use GET or POST") {
			t.Errorf("405 answer: Allow %q, body %s", r.header.Get("Allow"), r.body)
		}

		// A body over the limit.
		big := strings.NewReader("username=acme&location=" + strings.Repeat("a", 2<<20))
		req = mustReq(t, "POST", p.base+"/BST/courseClasses/add", big)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		expect(t, "too large", p.do(req), 413)
	})
}

func mustReq(t *testing.T, method, u string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// Repeated failures from one client are slowed down; others are not affected.
func TestLoginFailuresAreRateLimited(t *testing.T) {
	p := newPortal(t, "sqlite")
	p.auth.FailuresRate = rate.Every(time.Hour) // no refill during the test, however slow the machine
	bad := url.Values{"username": {"acme"}, "password": {"guess-guess-guess"}}
	var last response
	for i := 0; i < 11; i++ {
		last = p.post("", bad, nil)
	}
	expect(t, "11th failure", last, 429)
	if last.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// Even the right password is refused while limited, so the limit is no oracle.
	expect(t, "right password while limited", p.post("", p.acme, nil), 429)
}
