package httpapi_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/tportal/tportal/internal/gateway/httpapi"
)

// FuzzReserveQuery sends any query string to the reserve URL: the answer is always 200
// or 400, JSON with the three fields, and a refusal always says why.
func FuzzReserveQuery(f *testing.F) {
	for _, seed := range []string{
		"externalCourseClassId=OSL-W40&externalCourseId=BST&trainingportalBookingReference=tp-1",
		"externalCourseClassId=OSL-W40&bookingReference=legacy",
		"externalCourseClassId=%00&trainingportalBookingReference=x",
		"externalCourseClassId=OSL-W41&externalCourseId=BST&trainingportalBookingReference=y",
		"externalCourseClassId=" + strings.Repeat("x", 300) + "&trainingportalBookingReference=z",
		"%zz&;;==&externalCourseClassId",
		"externalCourseClassId=OSL-W40&trainingportalBookingReference=%ff%fe",
	} {
		f.Add(seed)
	}
	sys := newSystem(f, "sqlite", 1000)
	mux := http.NewServeMux()
	httpapi.New(sys, httpapi.Options{Logger: discardLogger}).Register(mux)
	f.Fuzz(func(t *testing.T, query string) {
		req := httptest.NewRequest(http.MethodGet, "/reserve", nil)
		req.URL.RawQuery = query
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		var a struct {
			Successful       *bool   `json:"successful"`
			BookingReference *string `json:"bookingReference"`
			ErrorMessage     *string `json:"errorMessage"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil || a.Successful == nil || a.BookingReference == nil || a.ErrorMessage == nil {
			t.Fatalf("query %q: answer %d %q is not the reserve answer: %v", query, w.Code, w.Body, err)
		}
		switch {
		case w.Code != http.StatusOK && w.Code != http.StatusBadRequest:
			t.Fatalf("query %q: status %d: %s", query, w.Code, w.Body)
		case *a.Successful && (w.Code != http.StatusOK || *a.BookingReference == ""):
			t.Fatalf("query %q: success without a reference: %d %s", query, w.Code, w.Body)
		case !*a.Successful && *a.ErrorMessage == "":
			t.Fatalf("query %q: a refusal without a reason: %d %s", query, w.Code, w.Body)
		}
	})
}

// FuzzIPFilterClient reads any proxy header: the address judged is the peer, or one
// written in the header when the peer is a trusted proxy, never anything else.
func FuzzIPFilterClient(f *testing.F) {
	for _, seed := range [][2]string{
		{"127.0.0.1:5000", "203.0.113.9, 192.0.2.7"},
		{"127.0.0.1:5000", "::ffff:192.0.2.7"},
		{"198.51.100.1:80", "192.0.2.7"},
		{"[::1]:80", "not-an-ip,,"},
		{"garbage", ""},
		{"127.0.0.1:1", "127.0.0.2, 127.0.0.3"},
	} {
		f.Add(seed[0], seed[1])
	}
	filter, err := httpapi.NewIPFilter([]string{"192.0.2.0/24"}, "X-Forwarded-For", nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, remote, forwarded string) {
		req := httptest.NewRequest(http.MethodGet, "/reserve", nil)
		req.RemoteAddr = remote
		req.Header.Set("X-Forwarded-For", forwarded)
		addr, ok := filter.Client(req)
		if !ok {
			return
		}
		// The peer is RemoteAddr's host, with or without a port.
		host, _, err := net.SplitHostPort(remote)
		if err != nil {
			host = remote
		}
		peer, err := netip.ParseAddr(host)
		if err == nil && addr == peer.Unmap() {
			return
		}
		if err == nil && !peer.Unmap().IsLoopback() {
			t.Fatalf("peer %q is not a trusted proxy, yet the header chose %s", remote, addr)
		}
		if !strings.Contains(forwarded, addr.String()) && !strings.Contains(forwarded, addr.StringExpanded()) {
			var found bool
			for _, hop := range strings.Split(forwarded, ",") {
				if a, err := netip.ParseAddr(strings.TrimSpace(hop)); err == nil && a.Unmap() == addr {
					found = true
				}
			}
			if !found {
				t.Fatalf("address %s is neither the peer %q nor in the header %q", addr, remote, forwarded)
			}
		}
	})
}
