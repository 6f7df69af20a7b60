package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tportal/tportal/tpclient/signing"
)

// fakeProvider is a provider's booking system behind the reserve and cancel
// URLs of SPEC §3, right by default; its flags break it in one way each.
type fakeProvider struct {
	t      *testing.T
	secret []byte
	portal string // the stand-in portal's URL, to confirm bookings with; "" never confirms

	secondSeat      bool // a repeated reserve takes another seat
	html            bool // every answer is an HTML page
	ignoreSignature bool // takes unsigned calls
	silentRefusal   bool // refuses without an errorMessage
	delay           time.Duration

	mu        sync.Mutex
	seats     map[string]int
	byPortal  map[string]string // trainingportalBookingReference -> provider reference
	bookings  map[string]*fakeBooking
	next      int
	confirms  sync.WaitGroup
	confirmed map[string]bool
}

type fakeBooking struct {
	class     string
	cancelled bool
}

func newFakeProvider(t *testing.T, f *fakeProvider) (reserveURL, cancelURL string) {
	t.Helper()
	f.t = t
	f.seats = map[string]int{"BST-1": 5, "FULL-1": 0}
	f.byPortal, f.bookings, f.confirmed = map[string]string{}, map[string]*fakeBooking{}, map[string]bool{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /reserve", f.reserve)
	mux.HandleFunc("GET /cancel", f.cancel)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); f.confirms.Wait() })
	return srv.URL + "/reserve", srv.URL + "/cancel?ref={providerBookingReference}"
}

func (f *fakeProvider) answer(w http.ResponseWriter, r *http.Request, status int, fields map[string]any) {
	if f.html {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		fmt.Fprint(w, "<!DOCTYPE html><html><body><h1>Welcome to our booking system</h1></body></html>")
		return
	}
	if strings.Contains(r.Header.Get("Accept"), "xml") {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		var b bytes.Buffer
		b.WriteString("<answer>")
		for k, v := range fields {
			b.WriteString("<" + k + ">")
			_ = xml.EscapeText(&b, []byte(fmt.Sprint(v)))
			b.WriteString("</" + k + ">")
		}
		b.WriteString("</answer>")
		w.Write(b.Bytes())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(fields)
}

func (f *fakeProvider) verified(w http.ResponseWriter, r *http.Request) bool {
	if len(f.secret) == 0 || f.ignoreSignature {
		return true
	}
	if err := signing.VerifyRequest(r, f.secret, time.Now(), 0); err != nil {
		f.answer(w, r, http.StatusUnauthorized, map[string]any{"successful": false, "errorMessage": err.Error()})
		return false
	}
	return true
}

func (f *fakeProvider) reserve(w http.ResponseWriter, r *http.Request) {
	time.Sleep(f.delay)
	if !f.verified(w, r) {
		return
	}
	q := r.URL.Query()
	class, portalRef := q.Get("externalCourseClassId"), q.Get("trainingportalBookingReference")
	refuse := func(msg string) {
		if f.silentRefusal {
			msg = ""
		}
		f.answer(w, r, http.StatusOK, map[string]any{"successful": false, "errorMessage": msg})
	}
	f.mu.Lock()
	if ref, ok := f.byPortal[portalRef]; ok && !f.secondSeat {
		f.mu.Unlock()
		f.answer(w, r, http.StatusOK, map[string]any{"successful": true, "bookingReference": ref})
		return
	}
	seats, known := f.seats[class]
	switch {
	case !known:
		f.mu.Unlock()
		refuse("unknown course class " + class)
		return
	case seats == 0:
		f.mu.Unlock()
		refuse("class " + class + " is sold out")
		return
	}
	f.seats[class]--
	f.next++
	ref := fmt.Sprintf("P-%d", f.next)
	f.byPortal[portalRef] = ref
	f.bookings[ref] = &fakeBooking{class: class}
	f.mu.Unlock()
	if f.portal != "" {
		f.confirms.Add(1)
		go f.confirm(ref)
	}
	f.answer(w, r, http.StatusOK, map[string]any{"successful": true, "bookingReference": ref, "errorMessage": ""})
}

// confirm reads the booking from the portal by the provider's own reference,
// as a provider that follows the seed does, retrying while the portal says 404.
func (f *fakeProvider) confirm(ref string) {
	defer f.confirms.Done()
	for range 100 {
		form := url.Values{"username": {"acme"}, "password": {"secret"}}
		resp, err := http.PostForm(f.portal+"v1/booking/get/"+ref, form)
		if err != nil {
			return
		}
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			if body["providerBookingReference"] != ref && !f.secondSeat || body["externalCourseClassId"] != "BST-1" || body["firstname"] != "Kari" {
				f.t.Errorf("getBookingInformation answered %v", body)
			}
			f.mu.Lock()
			f.confirmed[ref] = true
			f.mu.Unlock()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (f *fakeProvider) cancel(w http.ResponseWriter, r *http.Request) {
	if !f.verified(w, r) {
		return
	}
	ref := r.URL.Query().Get("ref")
	f.mu.Lock()
	if ref == "" {
		ref = f.byPortal[r.URL.Query().Get("trainingportalBookingReference")]
	}
	b, ok := f.bookings[ref]
	if ok && !b.cancelled {
		b.cancelled = true
		f.seats[b.class]++
	}
	f.mu.Unlock()
	if !ok {
		f.answer(w, r, http.StatusOK, map[string]any{"cancelled": false, "errorMessage": "no booking " + ref})
		return
	}
	f.answer(w, r, http.StatusOK, map[string]any{"cancelled": true})
}

func (f *fakeProvider) freeSeats(class string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seats[class]
}

func TestProviderSuite(t *testing.T) {
	secret := []byte("s3cret")
	cases := []struct {
		name     string
		provider *fakeProvider
		secret   []byte
		noPortal bool
		budget   time.Duration
		timeout  time.Duration
		passed   bool
		// seatsLost: the provider keeps seats the kit cannot give back.
		seatsLost bool
		// want maps scenarios to their status and a piece of their explanation.
		want map[string][2]string
	}{
		{
			name: "right provider", provider: &fakeProvider{secret: secret}, secret: secret, passed: true,
			want: map[string][2]string{
				ScenarioReserveJSON: {"PASS", `bookingReference "P-1"`}, ScenarioReserveXML: {"PASS", `"P-2"`},
				ScenarioRepeatReserve: {"PASS", `same bookingReference "P-1"`},
				ScenarioUnknownClass:  {"PASS", "unknown course class"}, ScenarioSoldOut: {"PASS", "sold out"},
				ScenarioUnsigned: {"PASS", "HTTP 401"}, ScenarioBadSignature: {"PASS", "HTTP 401"}, ScenarioStale: {"PASS", "HTTP 401"},
				ScenarioConfirmed: {"PASS", "by its own reference"}, ScenarioCancel: {"PASS", "cancelled:true"},
				ScenarioCancelRepeat: {"PASS", "cancelled:true again"}, ScenarioCancelUnknown: {"PASS", "no booking"},
				ScenarioAnswerTime: {"PASS", "budget 2s"}, ScenarioCleanup: {"PASS", "cancelled the 1 reservation still held"},
			},
		},
		{
			name: "takes a second seat on a repeated reserve", provider: &fakeProvider{secondSeat: true}, passed: false,
			want: map[string][2]string{
				ScenarioReserveJSON:   {"PASS", "P-1"},
				ScenarioRepeatReserve: {"FAIL", `provider took a second seat: the repeat with trainingportalBookingReference`},
				ScenarioUnsigned:      {"SKIP", "no --secret"},
				ScenarioCleanup:       {"PASS", "cancelled the 2 reservations still held"},
			},
		},
		{
			name: "answers HTML", provider: &fakeProvider{html: true}, passed: false, seatsLost: true,
			want: map[string][2]string{
				ScenarioReserveJSON:   {"FAIL", "provider's answer is HTML, not JSON or XML"},
				ScenarioReserveXML:    {"FAIL", "HTML"},
				ScenarioRepeatReserve: {"SKIP", "needs the reservation"},
				ScenarioUnknownClass:  {"FAIL", "HTML"},
				ScenarioConfirmed:     {"SKIP", "no reservation was made"},
				ScenarioCancelUnknown: {"FAIL", "retry for ever"},
				ScenarioCleanup:       {"FAIL", "4 of 4 reservations could not be cancelled"},
			},
		},
		{
			name: "takes unsigned calls", provider: &fakeProvider{secret: secret, ignoreSignature: true}, secret: secret, passed: false,
			want: map[string][2]string{
				ScenarioUnsigned: {"FAIL", "anyone could book"}, ScenarioStale: {"FAIL", "signed 1h0m0s ago"},
				ScenarioCleanup: {"PASS", "cancelled the 4 reservations still held"},
			},
		},
		{
			name: "refuses without a message", provider: &fakeProvider{silentRefusal: true}, passed: false,
			want: map[string][2]string{ScenarioUnknownClass: {"FAIL", "without an errorMessage"}},
		},
		{
			name: "answers slowly", provider: &fakeProvider{delay: 60 * time.Millisecond}, budget: 20 * time.Millisecond, passed: false,
			want: map[string][2]string{ScenarioAnswerTime: {"FAIL", "over the budget of 20ms"}},
		},
		{
			name: "answers too late", provider: &fakeProvider{delay: 300 * time.Millisecond}, timeout: 100 * time.Millisecond, passed: false,
			// Its late reservations may land after the clean-up asked.
			seatsLost: true,
			want: map[string][2]string{
				ScenarioReserveJSON: {"FAIL", "no usable answer: no answer within 100ms"},
				ScenarioAnswerTime:  {"FAIL", "calls got no answer within 100ms (reserve (JSON), reserve (XML)"},
			},
		},
		{
			name: "never confirms", provider: &fakeProvider{}, noPortal: true, passed: true,
			want: map[string][2]string{ScenarioConfirmed: {"WARN", "never called getBookingInformation"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			portal, err := StartPortal("127.0.0.1:0", "acme", "secret")
			if err != nil {
				t.Fatal(err)
			}
			defer portal.Close()
			f := tc.provider
			if !tc.noPortal {
				f.portal = portal.URL()
			}
			reserveURL, cancelURL := newFakeProvider(t, f)
			var progress bytes.Buffer
			rep := RunProvider(context.Background(), ProviderConfig{
				ReserveURL: reserveURL, CancelURL: cancelURL, Class: "BST-1", Course: "BST", SoldOutClass: "FULL-1",
				Secret: tc.secret, Portal: portal, Budget: tc.budget, Timeout: tc.timeout, ConfirmWait: 300 * time.Millisecond, Progress: Progress{W: &progress},
			})
			var text bytes.Buffer
			rep.WriteText(&text)
			if rep.Passed() != tc.passed {
				t.Errorf("Passed() = %v, want %v\n%s", rep.Passed(), tc.passed, text.String())
			}
			for name, want := range tc.want {
				res, ok := rep.Result(name)
				if !ok {
					t.Errorf("no result for %q", name)
					continue
				}
				if string(res.Status) != want[0] || !strings.Contains(res.Why, want[1]) {
					t.Errorf("%q: %s %q, want %s and %q", name, res.Status, res.Why, want[0], want[1])
				}
				line := fmt.Sprintf("%-4s  %s", res.Status, name)
				if !strings.Contains(text.String(), line) {
					t.Errorf("report has no line %q:\n%s", line, text.String())
				}
			}
			if got := f.freeSeats("BST-1"); got != 5 && !tc.seatsLost {
				t.Errorf("the provider has %d free seats after the run, want all 5 back:\n%s", got, text.String())
			}
			if n := strings.Count(progress.String(), "\n"); n != len(rep.Results) {
				t.Errorf("%d progress lines for %d scenarios:\n%s", n, len(rep.Results), progress.String())
			}
		})
	}
}
