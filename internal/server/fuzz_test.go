package server_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// fuzzMethods are the methods a fuzz input picks from by its first byte.
var fuzzMethods = []string{"GET", "POST", "HEAD", "PUT", "DELETE"}

// clients numbers the fuzz requests' client addresses, so that the login rate limit
// of one input never hides the handling of the next.
var clients atomic.Uint64

// fuzzSend sends one request to the whole portal (both APIs, real SQLite) and fails
// on any 5xx, and on a HEAD that changed data.
func fuzzSend(t *testing.T, fx *fixture, method byte, path, query, contentType, header, body string) {
	req := httptest.NewRequest("POST", "/", strings.NewReader(body))
	req.Method = fuzzMethods[int(method)%len(fuzzMethods)]
	req.URL.Path, req.URL.RawPath, req.URL.RawQuery = path, "", query
	n := clients.Add(1)
	req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:1234", n>>16&255, n>>8&255, n&255)
	if contentType != "" {
		req.Header["Content-Type"] = []string{contentType}
	}
	if header != "" {
		req.Header["Idempotency-Key"] = []string{header}
	}
	if !strings.Contains(path, "/courseprovider/") {
		req.Header.Set("Authorization", "Bearer "+fx.token)
	}
	var before string
	if req.Method == http.MethodHead {
		before = fx.fingerprint(t)
	}
	rec := httptest.NewRecorder()
	fx.h.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		t.Fatalf("%s %s?%s (%s) %q answered %d: %s", req.Method, path, query, contentType, body, rec.Code, rec.Body.String())
	}
	if req.Method == http.MethodHead && fx.fingerprint(t) != before {
		t.Fatalf("HEAD %s?%s changed the data (answered %d)", path, query, rec.Code)
	}
}

// FuzzCourseProviderAPI sends mutations of the hostile-input requests to the
// course-provider API: its path ids, query, form, multipart and JSON decoding.
func FuzzCourseProviderAPI(f *testing.F) {
	fx := newFixture(f, "sqlite")
	const base = "/api/courseprovider/rest/"
	for i, h := range hostileCases {
		path := h.path
		if !strings.Contains(path, "/courseprovider/") {
			continue
		}
		path = strings.NewReplacer("{ref}", fx.ref, "%00", "\x00", "%FF", "\xff").Replace(path)
		query := h.query
		if query == "" || query == "-" {
			query = fx.creds.Encode()
		} else if !strings.Contains(query, "username=") {
			query = fx.creds.Encode() + "&" + query
		}
		f.Add(byte(i), strings.TrimPrefix(path, base), query, h.contentType, h.body)
	}
	f.Fuzz(func(t *testing.T, method byte, path, query, contentType, body string) {
		fuzzSend(t, fx, method, base+path, query, contentType, "", body)
	})
}

// FuzzPortalAPI sends mutations of the hostile-input requests to the portal API:
// its path ids, query, JSON decoding and Idempotency-Key.
func FuzzPortalAPI(f *testing.F) {
	fx := newFixture(f, "sqlite")
	const base = "/api/v1/"
	fill := strings.NewReplacer("{ref}", fx.ref, "{classId}", fmt.Sprint(fx.classID), "{doc}", fmt.Sprint(fx.docID), "%00", "\x00", "%FF", "\xff")
	for i, h := range hostileCases {
		if !strings.HasPrefix(h.path, base) {
			continue
		}
		f.Add(byte(i), strings.TrimPrefix(fill.Replace(h.path), base), h.query, h.header["Idempotency-Key"], fill.Replace(h.body))
	}
	f.Fuzz(func(t *testing.T, method byte, path, query, idempotencyKey, body string) {
		fuzzSend(t, fx, method, base+path, query, "application/json", idempotencyKey, body)
	})
}
