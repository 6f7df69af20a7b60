package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type echoRoutes struct{}

func (echoRoutes) Register(mux Mux) {
	mux.HandleFunc("POST /api/x/{id}/add", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "added "+r.PathValue("id"))
	})
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "none", http.StatusNotFound) })
}

// Unclean paths are served as their clean form, never redirected, and counted under
// the route they reach.
func TestUncleanPathsAreServedWithoutRedirect(t *testing.T) {
	reg := NewRegistry()
	h := Handler(pinger{}, reg, NewMetrics(reg), slog.New(slog.NewTextHandler(io.Discard, nil)), echoRoutes{})
	for _, tt := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"POST", "/api/x/7/add", 200, "added 7"},
		{"POST", "//api/x/7/add", 200, "added 7"},
		{"POST", "/api//x/7//add", 200, "added 7"},
		{"POST", "/api/./x/7/add", 200, "added 7"},
		{"POST", "/api/y/../x/7/add", 200, "added 7"},
		{"POST", "/api/x/a%2Fb/add", 200, "added a/b"},
		{"POST", "/api//x/a%20b/add", 200, "added a b"},
		{"GET", "//healthz", 200, "ok"},
		{"GET", "/api//nothing", 404, "none"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, strings.NewReader("")))
		if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.body) {
			t.Errorf("%s %s = %d %q (Location %q), want %d %q", tt.method, tt.path, rec.Code, rec.Body.String(), rec.Header().Get("Location"), tt.status, tt.body)
		}
	}
	metrics := get(t, h, "/metrics").Body.String()
	if want := `tportal_http_requests_total{code="200",method="POST",route="POST /api/x/{id}/add"} 7`; !strings.Contains(metrics, want) {
		t.Errorf("metrics lack %s", want)
	}
}

func TestCleanURLPath(t *testing.T) {
	for in, want := range map[string]string{
		"": "/", "/": "/", "a/b": "/a/b", "//a//b/": "/a/b/", "/a/../..": "/", "/a/./b/.": "/a/b", "/a/b/../": "/a/",
	} {
		if got := cleanURLPath(in); got != want {
			t.Errorf("cleanURLPath(%q) = %q, want %q", in, got, want)
		}
	}
}
