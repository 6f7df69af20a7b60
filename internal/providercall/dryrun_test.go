package providercall

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

func TestTestReserve(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r)
		mu.Unlock()
		switch r.URL.Path {
		case "/html":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html><body>Log in</body></html>")
		case "/missing":
			http.NotFound(w, r)
		default:
			fmt.Fprint(w, `{"successful": false, "errorMessage": "no such class"}`)
		}
	}))
	defer srv.Close()
	journal := &memJournal{}
	open := New(Options{AllowPrivateURLs: true, Journal: journal})
	guarded := New(Options{Journal: journal})
	tests := []struct {
		name         string
		client       *Client
		target       Target
		readable     bool
		refused      bool
		status       int
		problem, msg string
	}{
		{"readable answer, signed", open, Target{ReserveURL: srv.URL + "/reserve", Secret: []byte("s3cret")}, true, false, 200, "", "no such class"},
		{"template URL", open, Target{ReserveURL: srv.URL + "/c/{externalCourseId}/{externalCourseClassId}"}, true, false, 200, "", "no such class"},
		{"HTML", open, Target{ReserveURL: srv.URL + "/html"}, false, false, 200, "HTML", ""},
		{"404", open, Target{ReserveURL: srv.URL + "/missing"}, false, false, 404, "HTTP 404", ""},
		{"guard refuses loopback", guarded, Target{ReserveURL: srv.URL + "/reserve"}, false, true, 0, "", ""},
		{"no URL", open, Target{}, false, true, 0, "no reserve URL", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			run := tc.client.TestReserve(context.Background(), tc.target)
			if run.Readable != tc.readable || run.Refused != tc.refused || run.HTTPStatus != tc.status ||
				!strings.Contains(run.Problem, tc.problem) || run.Answer.ErrorMessage != tc.msg || run.Answer.Successful {
				t.Fatalf("got %+v", run)
			}
			if tc.readable == (run.Problem != "") {
				t.Errorf("readable %v with problem %q", run.Readable, run.Problem)
			}
			mu.Lock()
			defer mu.Unlock()
			if tc.refused {
				if len(got) != 0 {
					t.Fatalf("a refused test reached the server: %v", got[0].URL)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("%d calls reached the server", len(got))
			}
			r := got[0]
			q := r.URL.Query()
			if r.Header.Get(TestHeader) != TestMarker || q.Get(TestParam) != TestMarker ||
				q.Get("trainingportalBookingReference") != TestReference || !strings.Contains(r.URL.String(), url.PathEscape(TestID)) {
				t.Errorf("call not marked as a test: %s %v", r.URL, r.Header)
			}
			if (len(tc.target.Secret) > 0) != (r.Header.Get(SignatureHeader) != "") || run.Signed != (len(tc.target.Secret) > 0) {
				t.Errorf("signed %v, signature header %q", run.Signed, r.Header.Get(SignatureHeader))
			}
		})
	}
	journal.mu.Lock()
	defer journal.mu.Unlock()
	if n := len(journal.calls); n != 0 {
		t.Errorf("dry calls were journaled: %d entries", n)
	}
}
