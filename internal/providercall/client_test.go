package providercall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// memJournal is an in-memory Journal.
type memJournal struct {
	mu    sync.Mutex
	calls []Call
	err   error // returned by RecordCall, to test that journal failures are harmless
}

func (j *memJournal) RecordCall(_ context.Context, c Call) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.calls = append(j.calls, c)
	return j.err
}

func (j *memJournal) only(t *testing.T) Call {
	t.Helper()
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.calls) != 1 {
		t.Fatalf("journal has %d calls, want 1: %+v", len(j.calls), j.calls)
	}
	return j.calls[0]
}

// answer returns a handler writing body with a content type and status.
func answer(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// provider starts a real HTTP server for h and returns its base URL.
func provider(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// hangingProvider accepts connections and never answers.
func hangingProvider(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never read or written
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}

// closedPort returns the URL of a port nothing listens on.
func closedPort(t *testing.T) (url, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = ln.Addr().String()
	ln.Close()
	return "http://" + addr, addr
}

func testClient(j Journal, o Options) *Client {
	o.AllowPrivateURLs = true // httptest servers are on loopback
	o.Journal = j
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Second
	}
	return New(o)
}

var testReserve = ReserveRequest{
	ExternalCourseClassID: "CL-1",
	ExternalCourseID:      "BST",
	BookingReference:      "tp-ref-1",
	Student:               Person{FirstName: "Kari", LastName: "Nordmann"},
}

func TestReserveAnswers(t *testing.T) {
	const short = 200 * time.Millisecond
	big := strings.Repeat(" ", 10<<20)
	tests := []struct {
		name      string
		url       func(t *testing.T) string // the provider's base URL
		timeout   time.Duration
		want      ReserveAnswer
		wantErr   string // substring of the reason; "" when the call is answered
		wantCode  int    // HTTP status in the journal
		wantFlags string // "timeout" or "refused" when CallError says so
	}{
		{name: "json",
			url: func(t *testing.T) string {
				return provider(t, answer(200, "application/json", `{"successful":true,"bookingReference":"P-1","errorMessage":""}`))
			},
			want: ReserveAnswer{Successful: true, ProviderBookingReference: "P-1"}, wantCode: 200},
		{name: "seed example as text/html",
			url: func(t *testing.T) string {
				return provider(t, answer(200, "text/html", `{"successful":"true","bookingReference":"1234","errorMessage":""}`))
			},
			want: ReserveAnswer{Successful: true, ProviderBookingReference: "1234"}, wantCode: 200},
		{name: "xml labelled json",
			url: func(t *testing.T) string {
				return provider(t, answer(200, "application/json",
					`<?xml version="1.0"?><reservation><successful>true</successful><bookingReference>X-9</bookingReference></reservation>`))
			},
			want: ReserveAnswer{Successful: true, ProviderBookingReference: "X-9"}, wantCode: 200},
		{name: "typo'd keys",
			url: func(t *testing.T) string {
				return provider(t, answer(200, "", `{"sucessful":"TRUE","BookingReference":"b-7","errorMesssage":""}`))
			},
			want: ReserveAnswer{Successful: true, ProviderBookingReference: "b-7"}, wantCode: 200},
		{name: "upper case key and errorMesssage",
			url: func(t *testing.T) string {
				return provider(t, answer(200, "application/json", `{"SUCCESSFUL":"false","errorMesssage":"Class is full"}`))
			},
			want: ReserveAnswer{ErrorMessage: "Class is full"}, wantCode: 200},
		{name: "string booleans in xml",
			url: func(t *testing.T) string {
				return provider(t, answer(200, "text/xml", `<r><Successful>yes</Successful><bookingReference>77</bookingReference></r>`))
			},
			want: ReserveAnswer{Successful: true, ProviderBookingReference: "77"}, wantCode: 200},
		{name: "numeric bookingReference",
			url: func(t *testing.T) string {
				return provider(t, answer(200, "application/json", `{"successful":1,"bookingReference":1234}`))
			},
			want: ReserveAnswer{Successful: true, ProviderBookingReference: "1234"}, wantCode: 200},
		{name: "slow",
			url: func(t *testing.T) string {
				return provider(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					select {
					case <-r.Context().Done():
					case <-time.After(5 * time.Second):
					}
					io.WriteString(w, `{"successful":true,"bookingReference":"late"}`)
				}))
			},
			timeout: short, wantErr: "no answer within 200ms", wantFlags: "timeout"},
		{name: "slow body",
			url: func(t *testing.T) string {
				return provider(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					io.WriteString(w, `{"successful":true,`)
					w.(http.Flusher).Flush()
					select {
					case <-r.Context().Done():
					case <-time.After(5 * time.Second):
					}
				}))
			},
			timeout: short, wantErr: "no answer within 200ms", wantCode: 200, wantFlags: "timeout"},
		{name: "HTTP 500 with errorMessage",
			url: func(t *testing.T) string {
				return provider(t, answer(500, "application/json", `{"successful":false,"errorMessage":"database down"}`))
			},
			want:    ReserveAnswer{ErrorMessage: "database down"},
			wantErr: `provider answered HTTP 500 Internal Server Error: "database down"`, wantCode: 500},
		{name: "HTTP 404 HTML page",
			url: func(t *testing.T) string {
				return provider(t, answer(404, "text/html", `<html><body>Not found</body></html>`))
			},
			wantErr: "provider answered HTTP 404 Not Found", wantCode: 404},
		{name: "HTML",
			url: func(t *testing.T) string {
				return provider(t, answer(200, "text/html", "<!DOCTYPE html>\n<html><body>Please log in</body></html>"))
			},
			wantErr: "provider's answer is HTML, not JSON or XML", wantCode: 200},
		{name: "10 MB body",
			url: func(t *testing.T) string {
				return provider(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					io.WriteString(w, `{"successful":true,"bookingReference":"x","pad":"`)
					for i := 0; i < 10; i++ { // streamed, so no Content-Length
						if _, err := io.WriteString(w, big[:1<<20]); err != nil {
							return
						}
					}
					io.WriteString(w, `"}`)
				}))
			},
			wantErr: "answer larger than 64 KiB", wantCode: 200},
		{name: "declared too large",
			url: func(t *testing.T) string {
				return provider(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Length", strconv.Itoa(len(big)))
					io.WriteString(w, big)
				}))
			},
			wantErr: "answer larger than 64 KiB", wantCode: 200},
		{name: "hangs",
			url: hangingProvider, timeout: short, wantErr: "no answer within 200ms", wantFlags: "timeout"},
		{name: "closed port",
			url: func(t *testing.T) string {
				u, _ := closedPort(t)
				return u
			},
			wantErr: "could not connect to 127.0.0.1:"},
		{name: "closes the connection",
			url: func(t *testing.T) string {
				return provider(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					c, _, err := w.(http.Hijacker).Hijack()
					if err == nil {
						c.Close()
					}
				}))
			},
			wantErr: "provider closed the connection without answering"},
		{name: "successful without reference",
			url: func(t *testing.T) string {
				return provider(t, answer(200, "application/json", `{"successful":"true","bookingReference":"","errorMessage":""}`))
			},
			wantErr: "provider said successful but gave no bookingReference", wantCode: 200},
		{name: "empty body",
			url:     func(t *testing.T) string { return provider(t, answer(200, "application/json", "")) },
			wantErr: "provider's answer is empty", wantCode: 200},
		{name: "garbage",
			url:     func(t *testing.T) string { return provider(t, answer(200, "text/plain", "OK reserved")) },
			wantErr: "neither JSON nor XML", wantCode: 200},
		{name: "unreadable boolean",
			url: func(t *testing.T) string {
				return provider(t, answer(200, "application/json", `{"successful":"perhaps","bookingReference":"1"}`))
			},
			wantErr: `successful "perhaps", which is neither true nor false`, wantCode: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := tt.url(t)
			j := &memJournal{}
			c := testClient(j, Options{Timeout: tt.timeout})
			target := Target{ProviderID: 7, ProviderName: "Acme Safety", ReserveURL: base + "/reserve"}
			got, err := c.Reserve(context.Background(), target, testReserve)
			call := j.only(t)

			if call.ProviderID != 7 || call.ProviderName != "Acme Safety" || call.Kind != KindReserve ||
				call.BookingReference != "tp-ref-1" || call.At.IsZero() || call.Latency <= 0 {
				t.Errorf("journal entry lacks details: %+v", call)
			}
			if !strings.HasPrefix(call.URL, base+"/reserve?externalCourseClassId=CL-1&externalCourseId=BST&trainingportalBookingReference=tp-ref-1") {
				t.Errorf("journal URL = %q", call.URL)
			}
			if call.HTTPStatus != tt.wantCode {
				t.Errorf("journal status = %d, want %d", call.HTTPStatus, tt.wantCode)
			}
			if got != tt.want {
				t.Errorf("answer = %+v, want %+v", got, tt.want)
			}

			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if call.Outcome != OutcomeAnswered || call.Success != tt.want.Successful || call.Error != "" {
					t.Errorf("journal entry = %+v, want answered, success %v", call, tt.want.Successful)
				}
				return
			}
			var cerr *CallError
			if !errors.As(err, &cerr) {
				t.Fatalf("err = %v (%T), want a *CallError", err, err)
			}
			t.Logf("reason: %s", cerr.Reason)
			if !strings.Contains(cerr.Reason, tt.wantErr) {
				t.Errorf("reason = %q, want it to contain %q", cerr.Reason, tt.wantErr)
			}
			if err.Error() != "providercall: reserve: "+cerr.Reason {
				t.Errorf("error text = %q", err.Error())
			}
			if cerr.Timeout != (tt.wantFlags == "timeout") || cerr.Refused != (tt.wantFlags == "refused") {
				t.Errorf("timeout=%v refused=%v, want %q", cerr.Timeout, cerr.Refused, tt.wantFlags)
			}
			if call.Outcome != OutcomeFailed || call.Success || call.Error != cerr.Reason {
				t.Errorf("journal entry = %+v, want failed with %q", call, cerr.Reason)
			}
		})
	}
}

func TestReserveSendsParameters(t *testing.T) {
	seen := make(chan *http.Request, 1)
	base := provider(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Clone(context.Background())
		io.WriteString(w, `{"successful":true,"bookingReference":"P"}`)
	}))
	c := testClient(nil, Options{})
	r := ReserveRequest{
		ExternalCourseClassID: "CL 1/ø",
		ExternalCourseID:      "BST 2",
		BookingReference:      "tp-9",
		Student:               Person{FirstName: "Åse", LastName: "Berg & Sønn", Email: "a@b.no", Phone: "+47 123"},
		StudentBirthDate:      "1990-02-03",
		Enroller:              Person{FirstName: "Ola", Email: "ola@firma.no"},
		Company:               "Firma AS",
	}
	target := Target{ReserveURL: base + "/classes/{externalCourseClassId}/reserve?lang=no"}
	if _, err := c.Reserve(context.Background(), target, r); err != nil {
		t.Fatal(err)
	}
	got := <-seen
	if got.Method != http.MethodGet {
		t.Errorf("method = %s", got.Method)
	}
	if got.URL.Path != "/classes/CL 1/ø/reserve" || got.URL.EscapedPath() != "/classes/CL%201%2F%C3%B8/reserve" {
		t.Errorf("path = %q (%q)", got.URL.Path, got.URL.EscapedPath())
	}
	q := got.URL.Query()
	want := map[string]string{
		"lang": "no", "trainingportalBookingReference": "tp-9", "externalCourseId": "BST 2",
		"studentFirstName": "Åse", "studentLastName": "Berg & Sønn", "studentEmailAddress": "a@b.no",
		"studentPhoneNumber": "+47 123", "studentBirthDate": "1990-02-03",
		"enrollerFirstName": "Ola", "enrollerEmailAddress": "ola@firma.no", "company": "Firma AS",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	for _, k := range []string{"externalCourseClassId", "enrollerLastName", "enrollerPhoneNumber", "bookingReference"} {
		if q.Has(k) {
			t.Errorf("%s sent but should not be (placed in the path or empty)", k)
		}
	}
	if a := got.Header.Get("Accept"); a != "application/json, application/xml;q=0.9" {
		t.Errorf("Accept = %q", a)
	}
	if ua := got.Header.Get("User-Agent"); ua != "tportal/1" {
		t.Errorf("User-Agent = %q", ua)
	}
	if got.Header.Get(SignatureHeader) != "" || got.Header.Get(TimestampHeader) != "" {
		t.Error("unsigned target got signature headers")
	}
}

func TestCancel(t *testing.T) {
	var mu sync.Mutex
	var queries []string
	base := provider(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries = append(queries, r.URL.RequestURI())
		mu.Unlock()
		switch r.URL.Query().Get("bookingReference") {
		case "late":
			io.WriteString(w, `<cancel><cancelled>false</cancelled><errorMesssage>Too late to cancel</errorMesssage></cancel>`)
		case "gone":
			w.WriteHeader(http.StatusGone)
		default:
			io.WriteString(w, `{ "cancelled" : "true" , "errorMessage" : "" }`)
		}
	}))
	tests := []struct {
		name    string
		url     string
		req     CancelRequest
		want    CancelAnswer
		wantURI string
		wantErr string
	}{
		{name: "cancelled", url: base + "/cancelBooking", req: CancelRequest{ProviderBookingReference: "1234", BookingReference: "tp-1"},
			want: CancelAnswer{Cancelled: true}, wantURI: "/cancelBooking?bookingReference=1234&trainingportalBookingReference=tp-1"},
		{name: "refused by provider", url: base + "/c", req: CancelRequest{ProviderBookingReference: "late", BookingReference: "tp-2"},
			want: CancelAnswer{ErrorMessage: "Too late to cancel"}, wantURI: "/c?bookingReference=late&trainingportalBookingReference=tp-2"},
		{name: "abandoned reservation: no provider reference", url: base + "/c", req: CancelRequest{BookingReference: "tp-3"},
			want: CancelAnswer{Cancelled: true}, wantURI: "/c?trainingportalBookingReference=tp-3"},
		{name: "template", url: base + "/b/{providerBookingReference}/cancel", req: CancelRequest{ProviderBookingReference: "77", BookingReference: "tp-4"},
			want: CancelAnswer{Cancelled: true}, wantURI: "/b/77/cancel?trainingportalBookingReference=tp-4"},
		{name: "410", url: base + "/c", req: CancelRequest{ProviderBookingReference: "gone", BookingReference: "tp-5"},
			wantErr: "provider answered HTTP 410 Gone", wantURI: "/c?bookingReference=gone&trainingportalBookingReference=tp-5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			queries = nil
			mu.Unlock()
			j := &memJournal{}
			c := testClient(j, Options{})
			got, err := c.Cancel(context.Background(), Target{ProviderID: 3, CancelURL: tt.url}, tt.req)
			call := j.only(t)
			if call.Kind != KindCancel || call.BookingReference != tt.req.BookingReference {
				t.Errorf("journal entry = %+v", call)
			}
			mu.Lock()
			if len(queries) != 1 || queries[0] != tt.wantURI {
				t.Errorf("provider saw %q, want %q", queries, tt.wantURI)
			}
			mu.Unlock()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || call.Outcome != OutcomeFailed {
					t.Fatalf("err = %v, journal %+v; want failed with %q", err, call, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || call.Outcome != OutcomeAnswered || call.Success != tt.want.Cancelled {
				t.Errorf("answer %+v, journal %+v; want %+v", got, call, tt.want)
			}
		})
	}
}

func TestInvalidRequestsAreNotSent(t *testing.T) {
	j := &memJournal{}
	c := testClient(j, Options{})
	if _, err := c.Reserve(context.Background(), Target{ReserveURL: "http://127.0.0.1:1/"}, ReserveRequest{}); err == nil ||
		!strings.Contains(err.Error(), "externalCourseClassId") {
		t.Errorf("reserve without class: err = %v", err)
	}
	if _, err := c.Cancel(context.Background(), Target{CancelURL: "http://127.0.0.1:1/"}, CancelRequest{}); err == nil ||
		!strings.Contains(err.Error(), "reference") {
		t.Errorf("cancel without references: err = %v", err)
	}
	if len(j.calls) != 0 {
		t.Errorf("journal has %d calls, want none", len(j.calls))
	}
}

func TestSSRFGuard(t *testing.T) {
	var hits int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		io.WriteString(w, `{"successful":true,"bookingReference":"should-not-get-here"}`)
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	tests := []struct {
		url     string
		wantErr string
	}{
		{url: srv.URL + "/reserve", wantErr: "address 127.0.0.1 is loopback; refused (start with --allow-private-urls to allow)"},
		{url: "http://localhost:" + port + "/reserve", wantErr: "is loopback; refused"},
		{url: "http://10.1.2.3/reserve", wantErr: "address 10.1.2.3 is private; refused (start with --allow-private-urls to allow)"},
		{url: "http://169.254.169.254/latest/meta-data/iam", wantErr: "address 169.254.169.254 is a cloud metadata address; refused"},
		{url: "http://[::1]:" + port + "/reserve", wantErr: "address ::1 is loopback; refused"},
		{url: "ftp://provider.example/reserve", wantErr: `scheme "ftp" is not allowed`},
		{url: "", wantErr: "the provider has no reserve URL"},
		{url: "http://provider.example/{nope}", wantErr: "unknown placeholder {nope}"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			j := &memJournal{}
			c := New(Options{Journal: j, Timeout: time.Second}) // AllowPrivateURLs is false
			_, err := c.Reserve(context.Background(), Target{ReserveURL: tt.url}, testReserve)
			var cerr *CallError
			if !errors.As(err, &cerr) || !cerr.Refused || !strings.Contains(cerr.Reason, tt.wantErr) {
				t.Fatalf("err = %v, want a refusal containing %q", err, tt.wantErr)
			}
			call := j.only(t)
			if call.Outcome != OutcomeFailed || call.HTTPStatus != 0 || call.Error != cerr.Reason {
				t.Errorf("journal entry = %+v", call)
			}
		})
	}

	// The dial-time guard on its own: bypass the early check, as a host name
	// resolving to loopback would.
	c := New(Options{Timeout: time.Second})
	_, err := c.http.Get(srv.URL)
	var refused *RefusedError
	if !errors.As(err, &refused) || refused.Range != "loopback" {
		t.Errorf("dial to loopback: err = %v, want a RefusedError", err)
	}
	// A redirect to a refused address is refused before it is followed.
	req := httptest.NewRequest(http.MethodGet, "http://10.0.0.1/x", nil)
	if err := c.checkRedirect(req, []*http.Request{httptest.NewRequest(http.MethodGet, "http://p.example/", nil)}); err == nil ||
		!strings.Contains(err.Error(), "provider redirected to a refused URL: address 10.0.0.1 is private") {
		t.Errorf("redirect to 10.0.0.1: err = %v", err)
	}

	mu.Lock()
	defer mu.Unlock()
	if hits != 0 {
		t.Errorf("the loopback provider was called %d times", hits)
	}
}

func TestRedirects(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/hop/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		if n > 0 {
			http.Redirect(w, r, fmt.Sprintf("/hop/%d?%s", n-1, r.URL.RawQuery), http.StatusFound)
			return
		}
		io.WriteString(w, `{"successful":true,"bookingReference":"after-redirects"}`)
	})
	base := provider(t, mux)
	tests := []struct {
		hops    int
		wantErr string
	}{
		{hops: 1}, {hops: 3}, {hops: 4, wantErr: "provider redirected more than 3 times"},
	}
	for _, tt := range tests {
		j := &memJournal{}
		c := testClient(j, Options{})
		got, err := c.Reserve(context.Background(), Target{ReserveURL: fmt.Sprintf("%s/hop/%d", base, tt.hops)}, testReserve)
		if tt.wantErr == "" {
			if err != nil || got.ProviderBookingReference != "after-redirects" {
				t.Errorf("%d hops: %+v, %v", tt.hops, got, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) || j.only(t).Error == "" {
			t.Errorf("%d hops: err = %v, want %q", tt.hops, err, tt.wantErr)
		}
	}
}

func TestJournalURLHasNoSecrets(t *testing.T) {
	base := provider(t, answer(200, "", `{"successful":true,"bookingReference":"P"}`))
	j := &memJournal{}
	c := testClient(j, Options{})
	u := strings.Replace(base, "http://", "http://user:pa55word@", 1) + "/r?apiKey=s3cret&access_token=t0k"
	if _, err := c.Reserve(context.Background(), Target{ReserveURL: u, Secret: []byte("hmac-secret")}, testReserve); err != nil {
		t.Fatal(err)
	}
	got := j.only(t).URL
	for _, secret := range []string{"pa55word", "s3cret", "t0k", "hmac-secret"} {
		if strings.Contains(got, secret) {
			t.Errorf("journal URL %q contains %q", got, secret)
		}
	}
	if !strings.Contains(got, "apiKey=REDACTED") || !strings.Contains(got, "externalCourseClassId=CL-1") {
		t.Errorf("journal URL = %q", got)
	}
}

func TestJournalFailureIsLoggedNotFatal(t *testing.T) {
	base := provider(t, answer(200, "", `{"successful":true,"bookingReference":"P"}`))
	var logs bytes.Buffer
	j := &memJournal{err: errors.New("disk full")}
	c := testClient(j, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	got, err := c.Reserve(context.Background(), Target{ReserveURL: base}, testReserve)
	if err != nil || !got.Successful {
		t.Fatalf("journal failure broke the call: %+v, %v", got, err)
	}
	if !strings.Contains(logs.String(), "provider call not journaled") || !strings.Contains(logs.String(), "disk full") {
		t.Errorf("journal failure not logged:\n%s", logs.String())
	}
}

func TestCallerCancellation(t *testing.T) {
	base := hangingProvider(t)
	j := &memJournal{}
	c := testClient(j, Options{Timeout: 5 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := c.Reserve(ctx, Target{ReserveURL: base}, testReserve)
	if err == nil || !strings.Contains(err.Error(), "call abandoned: the portal cancelled it") {
		t.Fatalf("err = %v", err)
	}
	// The journal entry is still written although ctx is cancelled.
	if call := j.only(t); call.Outcome != OutcomeFailed {
		t.Errorf("journal entry = %+v", call)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	if NewMetrics(reg) == nil { // registering twice shares the collectors
		t.Fatal("second NewMetrics returned nil")
	}
	ok := provider(t, answer(200, "", `{"successful":false,"errorMessage":"full"}`))
	bad := provider(t, answer(502, "", ``))
	c := testClient(nil, Options{Metrics: NewMetrics(reg)})
	target := Target{ProviderID: 1, ProviderName: "Acme", ReserveURL: ok, CancelURL: bad}
	c.Reserve(context.Background(), target, testReserve)
	c.Reserve(context.Background(), target, testReserve)
	c.Cancel(context.Background(), target, CancelRequest{ProviderBookingReference: "1"})
	c.Reserve(context.Background(), Target{ProviderID: 2, ReserveURL: bad}, testReserve)

	counts := map[string]float64{}
	observations := map[string]uint64{}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, metric := range f.GetMetric() {
			var labels []string
			for _, l := range metric.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			key := f.GetName() + "{" + strings.Join(labels, ",") + "}"
			switch f.GetName() {
			case "tportal_provider_calls_total":
				counts[key] = metric.GetCounter().GetValue()
			case "tportal_provider_call_duration_seconds":
				observations[key] = metric.GetHistogram().GetSampleCount()
			}
		}
	}
	wantCounts := map[string]float64{
		"tportal_provider_calls_total{kind=reserve,outcome=answered,provider=Acme}": 2,
		"tportal_provider_calls_total{kind=cancel,outcome=failed,provider=Acme}":    1,
		"tportal_provider_calls_total{kind=reserve,outcome=failed,provider=2}":      1,
	}
	wantObs := map[string]uint64{
		"tportal_provider_call_duration_seconds{kind=reserve,provider=Acme}": 2,
		"tportal_provider_call_duration_seconds{kind=cancel,provider=Acme}":  1,
		"tportal_provider_call_duration_seconds{kind=reserve,provider=2}":    1,
	}
	if fmt.Sprint(counts) != fmt.Sprint(wantCounts) {
		t.Errorf("counters = %v\nwant       %v", counts, wantCounts)
	}
	if fmt.Sprint(observations) != fmt.Sprint(wantObs) {
		t.Errorf("histograms = %v\nwant         %v", observations, wantObs)
	}
	var nilMetrics *Metrics
	nilMetrics.observe(Call{}) // a nil *Metrics records nothing and does not panic
	_ = m
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{64 << 10: "64 KiB", 1 << 20: "1 MiB", 1000: "1000 bytes", 1536: "1536 bytes"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestReadBody checks readBody against io.ReadAll whatever length was announced:
// none, the right one, less or more than the body, and a read error.
func TestReadBody(t *testing.T) {
	for _, body := range []string{"", "x", `{"successful":true,"bookingReference":"P-1"}`, strings.Repeat("é", 3000)} {
		for _, announced := range []int64{-1, 0, int64(len(body)), int64(len(body)) / 2, int64(len(body)) + 7, DefaultMaxBodyBytes + 1} {
			got, err := readBody(iotest.OneByteReader(strings.NewReader(body)), announced)
			if err != nil || string(got) != body {
				t.Errorf("readBody(%d bytes, announced %d) = %d bytes, %v", len(body), announced, len(got), err)
			}
		}
	}
	broken := io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(errors.New("reset")))
	if got, err := readBody(broken, 10); err == nil || string(got) != "abc" {
		t.Errorf("readBody of a broken body = %q, %v; want abc and the error", got, err)
	}
}
