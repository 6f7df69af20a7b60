package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/gateway"
	"github.com/tportal/tportal/internal/gateway/gwstore/gwstoretest"
	"github.com/tportal/tportal/internal/gateway/httpapi"
	"github.com/tportal/tportal/tpclient/signing"
)

var now = gwstoretest.Now

// newSystem opens a fresh store of the dialect with course BST, class OSL-W40 of the
// given seats, and a cancelled class OSL-W41.
func newSystem(t testing.TB, dialect string, seats int) *gateway.Reference {
	t.Helper()
	sys := gateway.NewReference(gwstoretest.Open(t, dialect))
	sys.Now = func() time.Time { return now }
	ctx := context.Background()
	if _, err := sys.AddCourse(ctx, "BST", "Basic Safety Training"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"OSL-W40", "OSL-W41"} {
		_, err := sys.AddClass(ctx, "BST", id, gwstoretest.ClassFields(seats))
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sys.CancelClass(ctx, "BST", "OSL-W41"); err != nil {
		t.Fatal(err)
	}
	return sys
}

// discardLogger keeps benchmark output readable.
var discardLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

func serve(t testing.TB, sys gateway.BookingSystem, o httpapi.Options) string {
	t.Helper()
	mux := http.NewServeMux()
	httpapi.New(sys, o).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

type answer struct {
	status      int
	contentType string
	body        string
}

func get(t *testing.T, rawURL string, header http.Header) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header.Get("Content-Type"), strings.TrimSpace(string(body))}
}

func q(kv ...string) string {
	v := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return "?" + v.Encode()
}

var portalAccept = http.Header{"Accept": {"application/json, application/xml;q=0.9"}}

func TestReserveAndCancel(t *testing.T) {
	gwstoretest.ForEach(t, func(t *testing.T, dialect string) {
		base := serve(t, newSystem(t, dialect, 1), httpapi.Options{Now: func() time.Time { return now }})
		xmlAccept := http.Header{"Accept": {"application/xml"}}
		tests := []struct {
			name   string
			path   string
			header http.Header
			want   answer
		}{
			// The portal's dry calls take no seat: the one seat is still free for "reserve".
			{"URL test by header", "/reserve" + q("externalCourseClassId", "OSL-W40", "externalCourseId", "BST", "trainingportalBookingReference", "TP-URL-TEST"),
				http.Header{"X-Tportal-Test": {"url-check"}},
				answer{200, "application/json; charset=utf-8", `{"successful":false,"bookingReference":"","errorMessage":"URL test received: the call reached this gateway (and its signature, if any, was valid); nothing was reserved"}`}},
			{"URL test by parameter", "/reserve" + q("externalCourseClassId", "OSL-W40", "externalCourseId", "BST", "trainingportalBookingReference", "TP-URL-TEST", "tportalTest", "url-check"), nil,
				answer{200, "application/json; charset=utf-8", `{"successful":false,"bookingReference":"","errorMessage":"URL test received: the call reached this gateway (and its signature, if any, was valid); nothing was reserved"}`}},
			{"reserve", "/reserve" + q("externalCourseClassId", "OSL-W40", "externalCourseId", "BST", "trainingportalBookingReference", "tp-1",
				"studentFirstName", "Kari", "studentLastName", "Nordmann", "company", "Acme AS"), portalAccept,
				answer{200, "application/json; charset=utf-8", `{"successful":true,"bookingReference":"1001","errorMessage":""}`}},
			{"repeat, in XML", "/reserve" + q("externalCourseClassId", "OSL-W40", "externalCourseId", "BST", "trainingportalBookingReference", "tp-1"), xmlAccept,
				answer{200, "application/xml; charset=utf-8", `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
					`<reservation><successful>true</successful><bookingReference>1001</bookingReference><errorMessage></errorMessage></reservation>`}},
			{"sold out, legacy bookingReference", "/reserve" + q("externalCourseClassId", "OSL-W40", "bookingReference", "tp-2"), nil,
				answer{200, "application/json; charset=utf-8", `{"successful":false,"bookingReference":"","errorMessage":"class BST/OSL-W40 is sold out"}`}},
			{"unknown class", "/reserve" + q("externalCourseClassId", "NOPE", "externalCourseId", "BST", "trainingportalBookingReference", "tp-3"), nil,
				answer{200, "application/json; charset=utf-8", `{"successful":false,"bookingReference":"","errorMessage":"unknown class NOPE in course BST"}`}},
			{"cancelled class", "/reserve" + q("externalCourseClassId", "OSL-W41", "externalCourseId", "BST", "trainingportalBookingReference", "tp-4"), nil,
				answer{200, "application/json; charset=utf-8", `{"successful":false,"bookingReference":"","errorMessage":"class BST/OSL-W41 is cancelled"}`}},
			{"no class", "/reserve" + q("trainingportalBookingReference", "tp-5"), nil,
				answer{400, "application/json; charset=utf-8", `{"successful":false,"bookingReference":"","errorMessage":"externalCourseClassId: is required"}`}},
			{"no reference", "/reserve" + q("externalCourseClassId", "OSL-W40"), nil,
				answer{400, "application/json; charset=utf-8", `{"successful":false,"bookingReference":"","errorMessage":"trainingportalBookingReference: is required"}`}},
			{"not UTF-8", "/reserve?externalCourseClassId=OSL-W40&trainingportalBookingReference=tp-9&studentFirstName=K%FFri&company=A%00S", nil,
				answer{400, "application/json; charset=utf-8", `{"successful":false,"bookingReference":"","errorMessage":"studentFirstName: is not valid UTF-8; company: contains control characters"}`}},
			{"cancel not UTF-8", "/cancel?trainingportalBookingReference=%FF", nil,
				answer{400, "application/json; charset=utf-8", `{"cancelled":false,"errorMessage":"trainingportalBookingReference: is not valid UTF-8"}`}},
			{"cancel", "/cancel" + q("bookingReference", "1001", "trainingportalBookingReference", "tp-1"), portalAccept,
				answer{200, "application/json; charset=utf-8", `{"cancelled":true,"errorMessage":""}`}},
			{"cancel again, in XML", "/cancel" + q("bookingReference", "1001"), http.Header{"Accept": {"text/xml"}},
				answer{200, "application/xml; charset=utf-8", `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
					`<cancellation><cancelled>true</cancelled><errorMessage></errorMessage></cancellation>`}},
			{"cancel unknown", "/cancel" + q("bookingReference", "4242"), nil,
				answer{200, "application/json; charset=utf-8", `{"cancelled":false,"errorMessage":"no booking 4242"}`}},
			{"cancel nothing", "/cancel", nil,
				answer{400, "application/json; charset=utf-8", `{"cancelled":false,"errorMessage":"bookingReference or trainingportalBookingReference is required"}`}},
			{"seat is free again", "/reserve" + q("externalCourseClassId", "OSL-W40", "externalCourseId", "BST", "trainingportalBookingReference", "tp-6"), nil,
				answer{200, "application/json; charset=utf-8", `{"successful":true,"bookingReference":"1002","errorMessage":""}`}},
		}
		for _, tc := range tests {
			if got := get(t, base+tc.path, tc.header); got != tc.want {
				t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, tc.want)
			}
		}
	})
}

func TestMethodsAndFormats(t *testing.T) {
	sys := newSystem(t, "sqlite", 5)
	base := serve(t, sys, httpapi.Options{Format: httpapi.XML})
	for _, method := range []string{http.MethodHead, http.MethodPut, http.MethodDelete} {
		req, _ := http.NewRequest(method, base+"/reserve"+q("externalCourseClassId", "OSL-W40", "trainingportalBookingReference", "m-"+method), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, POST" {
			t.Errorf("%s: %d, Allow %q", method, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
	if list, _ := sys.Bookings(context.Background(), gateway.BookingFilter{}); len(list) != 0 {
		t.Errorf("refused methods made %d bookings", len(list))
	}
	// A POSTed form works like the query.
	resp, err := http.PostForm(base+"/reserve", url.Values{"externalCourseClassId": {"OSL-W40"}, "trainingportalBookingReference": {"post-1"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "<successful>true</successful><bookingReference>1001</bookingReference>") {
		t.Errorf("POST in the configured XML: %s", body)
	}
	for accept, want := range map[string]string{
		"":                 "application/xml; charset=utf-8",
		"*/*":              "application/xml; charset=utf-8",
		"application/json": "application/json; charset=utf-8",
		"application/json, application/xml;q=0.9": "application/json; charset=utf-8",
		"text/html, application/xml":              "application/xml; charset=utf-8",
	} {
		h := http.Header{}
		if accept != "" {
			h.Set("Accept", accept)
		}
		if got := get(t, base+"/cancel"+q("bookingReference", "1001"), h); got.contentType != want {
			t.Errorf("Accept %q: %s, want %s", accept, got.contentType, want)
		}
	}
}

func TestSignature(t *testing.T) {
	sys := newSystem(t, "sqlite", 5)
	secret := []byte("shared secret")
	base := serve(t, sys, httpapi.Options{Secret: secret, MaxSkew: time.Minute})
	path := "/reserve" + q("externalCourseClassId", "OSL-W40", "trainingportalBookingReference", "sig-1")
	signed := func(secret []byte, at time.Time) http.Header {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		signing.SignRequest(req, secret, at)
		return req.Header
	}
	tests := []struct {
		name   string
		header http.Header
		status int
		body   string
	}{
		{"unsigned", nil, 401, `{"successful":false,"bookingReference":"","errorMessage":"call is not signed"}`},
		{"wrong secret", signed([]byte("guess"), time.Now()), 401, `{"successful":false,"bookingReference":"","errorMessage":"signature does not match"}`},
		{"stale", signed(secret, time.Now().Add(-2*time.Minute)), 401, ""},
		{"valid", signed(secret, time.Now()), 200, `{"successful":true,"bookingReference":"1001","errorMessage":""}`},
	}
	for _, tc := range tests {
		got := get(t, base+path, tc.header)
		if got.status != tc.status || (tc.body != "" && got.body != tc.body) {
			t.Errorf("%s: %d %s", tc.name, got.status, got.body)
		}
		if tc.name == "stale" && !strings.Contains(got.body, "signature timestamp outside the allowed window") {
			t.Errorf("stale: %s", got.body)
		}
	}
}

// TestPathPrefix serves the URLs behind a proxy that serves them below /tportal, one
// that strips the prefix and one that passes it on: both verify the portal's signature
// over the path it called.
func TestPathPrefix(t *testing.T) {
	sys := newSystem(t, "sqlite", 5)
	secret := []byte("shared secret")
	base := serve(t, sys, httpapi.Options{Secret: secret, PathPrefix: "tportal/"})
	for i, tc := range []struct {
		name, signed, called string
		status               int
	}{
		{"proxy strips the prefix", "/tportal/reserve", "/reserve", 200},
		{"proxy keeps the prefix", "/tportal/reserve", "/tportal/reserve", 200},
		{"signed without the prefix", "/reserve", "/reserve", 401},
		{"cancel below the prefix", "/tportal/cancel", "/tportal/cancel", 200},
	} {
		query := q("externalCourseClassId", "OSL-W40", "trainingportalBookingReference", fmt.Sprint("pp-", i), "bookingReference", "1001")
		ts := time.Now()
		h := http.Header{}
		h.Set(signing.TimestampHeader, fmt.Sprint(ts.Unix()))
		h.Set(signing.SignatureHeader, signing.Sign(secret, http.MethodGet, tc.signed, query[1:], ts))
		if got := get(t, base+tc.called+query, h); got.status != tc.status {
			t.Errorf("%s: %d %s", tc.name, got.status, got.body)
		}
	}
}

func TestIPFilter(t *testing.T) {
	tests := []struct {
		name    string
		allow   []string
		header  string
		proxies []string
		forward string
		status  int
	}{
		{"loopback allowed", []string{"127.0.0.0/8"}, "", nil, "", 200},
		{"single address allowed", []string{"10.0.0.1", "127.0.0.1"}, "", nil, "", 200},
		{"loopback not listed", []string{"192.0.2.0/24"}, "", nil, "", 403},
		{"header ignored when not configured", []string{"192.0.2.0/24"}, "", nil, "192.0.2.7", 403},
		{"header from a trusted proxy", []string{"192.0.2.0/24"}, "X-Forwarded-For", nil, "203.0.113.9, 192.0.2.7", 200},
		{"header names a refused client", []string{"192.0.2.0/24"}, "X-Forwarded-For", nil, "192.0.2.7, 203.0.113.9", 403},
		{"peer is not a trusted proxy", []string{"192.0.2.0/24"}, "X-Forwarded-For", []string{"198.51.100.0/24"}, "192.0.2.7", 403},
		{"mangled header", []string{"127.0.0.0/8"}, "X-Forwarded-For", nil, "not-an-ip", 403},
	}
	sys := newSystem(t, "sqlite", 100)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := httpapi.NewIPFilter(tc.allow, tc.header, tc.proxies)
			if err != nil {
				t.Fatal(err)
			}
			base := serve(t, sys, httpapi.Options{Filter: f})
			h := http.Header{}
			if tc.forward != "" {
				h.Set("X-Forwarded-For", tc.forward)
			}
			got := get(t, base+"/reserve"+q("externalCourseClassId", "OSL-W40", "trainingportalBookingReference", fmt.Sprint("ip-", i)), h)
			if got.status != tc.status {
				t.Errorf("status %d, want %d: %s", got.status, tc.status, got.body)
			}
		})
	}
	for _, bad := range [][]string{{"10.0.0.0/33"}, {"nonsense"}, {}} {
		if _, err := httpapi.NewIPFilter(bad, "", nil); err == nil {
			t.Errorf("NewIPFilter(%q) accepted", bad)
		}
	}
}

// TestConcurrentReserveHTTP sends 100 concurrent reserve calls, each twice, for 10
// seats through the HTTP handler: exactly 10 succeed, and each repeat gets the same
// answer as its first call.
func TestConcurrentReserveHTTP(t *testing.T) {
	gwstoretest.ForEach(t, func(t *testing.T, dialect string) {
		sys := newSystem(t, dialect, 10)
		base := serve(t, sys, httpapi.Options{Now: func() time.Time { return now }})
		const calls = 100
		answers := make([][2]string, calls)
		var wg sync.WaitGroup
		for i := range calls {
			for round := range 2 {
				wg.Go(func() {
					resp, err := http.Get(base + "/reserve" + q("externalCourseClassId", "OSL-W40", "externalCourseId", "BST",
						"trainingportalBookingReference", fmt.Sprintf("tp-%03d", i)))
					if err != nil {
						t.Error(err)
						return
					}
					defer resp.Body.Close()
					var a struct {
						Successful       bool
						BookingReference string
					}
					if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != 200 {
						t.Errorf("call %d: %d %v", i, resp.StatusCode, err)
					}
					answers[i][round] = fmt.Sprint(a.Successful, a.BookingReference)
				})
			}
		}
		wg.Wait()
		held := map[string]bool{}
		for i, a := range answers {
			if a[0] != a[1] {
				t.Errorf("tp-%03d: first %q, repeat %q", i, a[0], a[1])
			}
			if strings.HasPrefix(a[0], "true") {
				held[a[0]] = true
			}
		}
		c, err := sys.Class(context.Background(), "BST", "OSL-W40")
		if err != nil {
			t.Fatal(err)
		}
		list, _ := sys.Bookings(context.Background(), gateway.BookingFilter{})
		if len(held) != 10 || len(list) != 10 || c.FreeSeats != 0 {
			t.Errorf("%d distinct successes, %d bookings, %d free seats; want 10, 10, 0", len(held), len(list), c.FreeSeats)
		}
	})
}
