package tpclient

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testPassword = "s3cret-Pa55word"

// recorder is an httptest server that answers from a script and records what it got.
type recorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
	form []url.Values
	n    atomic.Int32
}

// newRecorder serves answer(i, r) for the i-th request (from 0).
func newRecorder(t *testing.T, answer func(i int, w http.ResponseWriter, r *http.Request)) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(rec.n.Add(1)) - 1
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
			_ = r.ParseMultipartForm(1 << 20)
		} else {
			_ = r.ParseForm()
		}
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, r)
		rec.form = append(rec.form, r.Form)
		rec.mu.Unlock()
		answer(i, w, r)
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

func (rec *recorder) client(t *testing.T, opts ...Option) *Client {
	t.Helper()
	opts = append([]Option{WithBackoff(time.Millisecond, 20*time.Millisecond)}, opts...)
	c, err := New(rec.srv.URL+"/mintra/api/courseprovider/rest", "acme", testPassword, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func reply(status int, body string) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func TestNewChecksItsArguments(t *testing.T) {
	tests := []struct{ base, user, pass string }{
		{"", "u", "p"},
		{"ftp://example.com/rest/", "u", "p"},
		{"/api/courseprovider/rest/", "u", "p"},
		{"https://u:p@example.com/rest/", "u", "p"},
		{"https://example.com/rest/", "", "p"},
		{"https://example.com/rest/", "u", ""},
	}
	for _, tt := range tests {
		if _, err := New(tt.base, tt.user, tt.pass); err == nil {
			t.Errorf("New(%q, %q, %q) accepted", tt.base, tt.user, tt.pass)
		} else if tt.pass != "" && strings.Contains(err.Error(), tt.pass+"@") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

func TestRequestsFollowTheDocumentedConventions(t *testing.T) {
	for _, base := range []string{"/api/courseprovider/rest", "/mintra/api/courseprovider/rest/"} {
		t.Run(base, func(t *testing.T) {
			rec := newRecorder(t, reply(200, `[]`))
			c, err := New(rec.srv.URL+base, "acme", testPassword, WithUserAgent("my-system/2"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.CourseClasses(context.Background(), "BST 1/2"); err != nil {
				t.Fatal(err)
			}
			r, form := rec.reqs[0], rec.form[0]
			wantPath := strings.TrimSuffix(base, "/") + "/v1/courses/get/BST%201%2F2/courseClasses"
			if r.Method != "POST" || r.URL.EscapedPath() != wantPath || r.URL.RawQuery != "" {
				t.Errorf("request %s %s?%s, want POST %s", r.Method, r.URL.EscapedPath(), r.URL.RawQuery, wantPath)
			}
			if form.Get("username") != "acme" || form.Get("password") != testPassword {
				t.Errorf("credentials not sent as form fields: %v", form)
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
				t.Errorf("Content-Type %q", ct)
			}
			if r.Header.Get("Accept") != "application/json" || r.Header.Get("User-Agent") != "my-system/2" {
				t.Errorf("headers %v", r.Header)
			}
		})
	}
}

func TestXMLIsAskedForAndRead(t *testing.T) {
	rec := newRecorder(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept") != "application/xml" {
			w.WriteHeader(406)
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		io.WriteString(w, `<?xml version="1.0"?><courses><course><id>7</id><externalCourseId>BST</externalCourseId><name>Basic Safety</name><description>d</description></course></courses>`)
	})
	courses, err := rec.client(t, WithXML()).Courses(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(courses) != 1 || courses[0] != (Course{ID: "7", ExternalCourseID: "BST", Name: "Basic Safety", Description: "d"}) {
		t.Errorf("courses %+v", courses)
	}
}

func TestErrorsAreTypedAndCarryTheServersMessage(t *testing.T) {
	tests := []struct {
		status   int
		body     string
		sentinel error
		message  string
	}{
		{400, `{"errorMessage":"startDate: must be yyyy-MM-dd"}`, ErrBadRequest, "startDate: must be yyyy-MM-dd"},
		{401, `{"errorMessage":"wrong username or password","successful":false,"sucessful":false}`, ErrUnauthorized, "wrong username or password"},
		{403, `<error><errorMessage>belongs to another provider</errorMessage></error>`, ErrForbidden, "belongs to another provider"},
		{404, `{"errorMessage":"no course with externalCourseId \"X\""}`, ErrNotFound, `no course with externalCourseId "X"`},
		{409, `{"errorMessage":"class W40 exists"}`, ErrConflict, "class W40 exists"},
		{410, `{"errorMessage":"the booking was rejected"}`, ErrGone, "the booking was rejected"},
		{413, `{"errorMessage":"too large"}`, ErrTooLarge, "too large"},
		{500, `<html><body>` + testPassword + `</body></html>`, ErrServer, "Internal Server Error"},
		{418, ``, ErrUnexpected, "I'm a teapot"},
		{200, `{"sucessful":"false","errorMessage":"not today"}`, ErrUnsuccessful, "not today"},
	}
	for _, tt := range tests {
		t.Run(tt.sentinel.Error(), func(t *testing.T) {
			rec := newRecorder(t, reply(tt.status, tt.body))
			err := rec.client(t).CancelClass(context.Background(), "BST", "W40")
			if !errors.Is(err, tt.sentinel) {
				t.Fatalf("error %v is not %v", err, tt.sentinel)
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.status || apiErr.Message != tt.message || apiErr.Method != "cancelClass" {
				t.Errorf("error %#v, want status %d message %q", apiErr, tt.status, tt.message)
			}
			for _, other := range []error{ErrBadRequest, ErrNotFound, ErrConflict, ErrServer} {
				if other != tt.sentinel && errors.Is(err, other) {
					t.Errorf("error %v also matches %v", err, other)
				}
			}
			if strings.Contains(err.Error(), testPassword) {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

func TestNetworkErrorsDoNotShowThePassword(t *testing.T) {
	rec := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	})
	_, err := rec.client(t, WithRetries(0)).Courses(context.Background())
	if err == nil || strings.Contains(err.Error(), testPassword) {
		t.Errorf("error %v", err)
	}
}

// countingTransport counts the attempts that reach the transport, sent or not.
type countingTransport struct{ n atomic.Int32 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func TestRetriesOnlyWhereRepeatingIsSafe(t *testing.T) {
	hangUp := func(_ int, w http.ResponseWriter, _ *http.Request) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close() // the request arrived; the answer never comes
	}
	pendingThenFound := func(i int, w http.ResponseWriter, _ *http.Request) {
		if i < 2 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(404)
			io.WriteString(w, `{"errorMessage":"booking is not available yet"}`)
			return
		}
		io.WriteString(w, `{"bookingReference":"R1","firstname":"Kari"}`)
	}
	unavailableThenOK := func(i int, w http.ResponseWriter, _ *http.Request) {
		if i == 0 {
			w.WriteHeader(503)
			return
		}
		io.WriteString(w, `{"successful":true,"externalId":"W40"}`)
	}
	limitedThenOK := func(i int, w http.ResponseWriter, _ *http.Request) {
		if i == 0 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(429)
			return
		}
		io.WriteString(w, `{"successful":true,"externalId":"W40"}`)
	}
	ctx := context.Background()
	getBooking := func(c *Client) error { _, err := c.BookingInformation(ctx, "R1"); return err }
	addClass := func(c *Client) error { _, err := c.AddClass(ctx, "BST", CourseClass{ExternalID: "W40"}); return err }
	updateClass := func(c *Client) error {
		_, err := c.UpdateClass(ctx, "BST", ClassUpdate{ExternalID: "W40", AvailableSeats: new(3)})
		return err
	}
	upload := func(c *Client) error {
		_, err := c.UploadDocumentation(ctx, "R1", Document{FileName: "c.pdf", Content: []byte("%PDF-1.4")})
		return err
	}
	courses := func(c *Client) error { _, err := c.Courses(ctx); return err }
	tests := []struct {
		name     string
		answer   func(int, http.ResponseWriter, *http.Request)
		call     func(*Client) error
		attempts int
		ok       bool
	}{
		{"read after 503", unavailableThenOK, courses, 2, true},
		{"updateClass after 503", unavailableThenOK, updateClass, 2, true},
		{"updateBookingStatus after 503", unavailableThenOK, func(c *Client) error { return c.UpdateBookingStatus(ctx, "R1", StatusNoShow, "") }, 2, true},
		{"addClass not after 503", unavailableThenOK, addClass, 1, false},
		{"upload not after 503", unavailableThenOK, upload, 1, false},
		{"addClass after 429", limitedThenOK, addClass, 2, true},
		{"cancelClass after 429", limitedThenOK, func(c *Client) error { return c.CancelClass(ctx, "BST", "W40") }, 2, true},
		{"read after a hang-up, until the retries are spent", hangUp, courses, 4, false},
		{"addClass not after a hang-up", hangUp, addClass, 1, false},
		{"booking pending, then found", pendingThenFound, getBooking, 3, true},
		{"plain 404 is final", reply(404, `{"errorMessage":"no booking"}`), getBooking, 1, false},
		{"500 is a bug, not retried", reply(500, `{"errorMessage":"internal error"}`), courses, 1, false},
		{"400 is final", reply(400, `{"errorMessage":"bad"}`), updateClass, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t, tt.answer)
			err := tt.call(rec.client(t))
			if (err == nil) != tt.ok {
				t.Errorf("error %v, want ok=%v", err, tt.ok)
			}
			if got := int(rec.n.Load()); got != tt.attempts {
				t.Errorf("%d attempts, want %d", got, tt.attempts)
			}
		})
	}
}

func TestUnsentCallsAreRetriedAndRetriesCanBeDisabled(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: every attempt is refused before it is sent
	for _, tt := range []struct {
		retries, attempts int
	}{{3, 4}, {0, 1}} {
		tr := &countingTransport{}
		c, err := New("http://"+addr+"/api/courseprovider/rest/", "acme", testPassword,
			WithHTTPClient(&http.Client{Transport: tr}), WithRetries(tt.retries), WithBackoff(time.Millisecond, 5*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.AddClass(context.Background(), "BST", CourseClass{ExternalID: "W40"})
		if err == nil || strings.Contains(err.Error(), testPassword) {
			t.Errorf("error %v", err)
		}
		if got := int(tr.n.Load()); got != tt.attempts {
			t.Errorf("retries %d: %d attempts, want %d", tt.retries, got, tt.attempts)
		}
	}
}

func TestWaitingStopsWhenTheContextIsDone(t *testing.T) {
	rec := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(503)
	})
	c, err := New(rec.srv.URL+"/api/courseprovider/rest/", "acme", testPassword, WithBackoff(time.Millisecond, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// The first attempt is answered well within the deadline; the wait of an hour is not.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = c.Courses(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrServer) {
		t.Errorf("error %v, want the 503 and context.DeadlineExceeded", err)
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.RetryAfter != time.Hour {
		t.Errorf("RetryAfter %v", apiErr.RetryAfter)
	}
	if n := rec.n.Load(); n != 1 {
		t.Errorf("%d attempts", n)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
	}{
		{"", 0},
		{"1", time.Second},
		{" 120 ", 2 * time.Minute},
		{"0", 0},
		{"-5", 0},
		{"soon", 0},
		{"99999999999", 24 * time.Hour},
		{"Tue, 01 Jan 2030 12:00:30 GMT", 30 * time.Second},
		{"Tue, 01 Jan 2030 11:00:00 GMT", 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.v, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

func TestAddAndUpdateSendTheDocumentedFields(t *testing.T) {
	rec := newRecorder(t, reply(200, `{"externalId":"W40","availableSeats":3}`))
	c := rec.client(t)
	ctx := context.Background()
	_, err := c.AddClass(ctx, "BST", CourseClass{
		ExternalID: "W40", Location: "Oslo", AvailableSeats: 12, EnrollmentDeadline: "2030-09-20",
		CancellationDeadline: "2030-09-25", StartDate: "2030-10-01", EndDate: "2030-10-03", EndTime: "15:30",
		Address: Address{AddressLine1: "Karl Johans gate 1", City: "Oslo", ZipCode: "0154", Country: "NO"},
		Price:   Price{Currency: "NOK", Amount: "12500.50"}, SendScheduleInfoToParticipants: new(false),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{
		"username": {"acme"}, "password": {testPassword},
		"externalId": {"W40"}, "location": {"Oslo"}, "availableSeats": {"12"}, "enrollmentDeadline": {"2030-09-20"},
		"cancellationDeadline": {"2030-09-25"}, "startDate": {"2030-10-01"}, "endDate": {"2030-10-03"}, "endTime": {"15:30"},
		"address.addressLine1": {"Karl Johans gate 1"}, "address.city": {"Oslo"}, "address.zipCode": {"0154"},
		"address.country": {"NO"}, "price.currency": {"NOK"}, "price.amount": {"12500.50"}, "sendScheduleInfoToParticipants": {"false"},
	}
	if got := rec.form[0]; got.Encode() != want.Encode() {
		t.Errorf("addClass sent\n%s\nwant\n%s", got.Encode(), want.Encode())
	}

	cl, err := c.UpdateClass(ctx, "BST", ClassUpdate{ExternalID: "W40", AvailableSeats: new(3), EnrollmentDeadline: new("2030-09-21")})
	if err != nil || cl.AvailableSeats != 3 {
		t.Fatalf("updateClass = %+v, %v", cl, err)
	}
	want = url.Values{"username": {"acme"}, "password": {testPassword}, "externalId": {"W40"}, "availableSeats": {"3"},
		"erollmentDeadline": {"2030-09-21"}, "enrollmentDeadline": {"2030-09-21"}}
	if got := rec.form[1]; got.Encode() != want.Encode() {
		t.Errorf("updateClass sent\n%s\nwant\n%s", got.Encode(), want.Encode())
	}
	if p := rec.reqs[1].URL.Path; !strings.HasSuffix(p, "/v1/courses/get/BST/courseClasses/update") {
		t.Errorf("updateClass path %s", p)
	}
}

func TestUploadIsMultipart(t *testing.T) {
	var gotName, gotType string
	var gotContent []byte
	rec := newRecorder(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		f, fh, err := r.FormFile("file")
		if err != nil {
			w.WriteHeader(400)
			return
		}
		gotContent, _ = io.ReadAll(f)
		gotName, gotType = fh.Filename, r.FormValue("documentType")
		io.WriteString(w, `{"successful":true,"sucessful":true,"errorMessage":"","documentId":"42"}`)
	})
	res, err := rec.client(t).UploadDocumentation(context.Background(), "R1", Document{FileName: "cert.pdf", Content: []byte("%PDF-1.4 x")})
	if err != nil || res.DocumentID != "42" {
		t.Fatalf("upload = %+v, %v", res, err)
	}
	if gotName != "cert.pdf" || gotType != "COURSE_CERTIFICATE" || string(gotContent) != "%PDF-1.4 x" {
		t.Errorf("server got %q %q %q", gotName, gotType, gotContent)
	}
	if rec.form[0].Get("password") != testPassword || !strings.HasSuffix(rec.reqs[0].URL.Path, "/v1/booking/uploadDocumentation/R1") {
		t.Errorf("upload request %s %v", rec.reqs[0].URL.Path, rec.form[0])
	}
	if _, err := rec.client(t).UploadDocumentation(context.Background(), "R1", Document{FileName: "empty.pdf"}); err == nil {
		t.Error("an empty document was sent")
	}
}
