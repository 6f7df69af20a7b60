package openapi_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/tportal/tportal/internal/api/courseprovider"
	"github.com/tportal/tportal/internal/api/openapi"
	"github.com/tportal/tportal/internal/api/portal"
	"github.com/tportal/tportal/internal/auth"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/server"
	"github.com/tportal/tportal/internal/store/storetest"
)

// operation is a documented method and path, such as "GET /api/v1/courses".
type operation struct{ method, path string }

// documented returns every operation the description lists.
func documented(t *testing.T) []operation {
	t.Helper()
	doc, err := libopenapi.NewDocument(openapi.Document)
	if err != nil {
		t.Fatal(err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatal(err)
	}
	var ops []operation
	for path, item := range model.Model.Paths.PathItems.FromOldest() {
		for method := range item.GetOperations().FromOldest() {
			ops = append(ops, operation{strings.ToUpper(method), path})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].path+ops[i].method < ops[j].path+ops[j].method })
	return ops
}

func TestDocumentIsValidOpenAPI31(t *testing.T) {
	doc, err := libopenapi.NewDocument(openapi.Document)
	if err != nil {
		t.Fatal(err)
	}
	if v := doc.GetVersion(); v != "3.1.0" {
		t.Errorf("OpenAPI version %q, want 3.1.0", v)
	}
	if _, err := doc.BuildV3Model(); err != nil {
		t.Fatalf("build the model: %v", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if ok, errs := v.ValidateDocument(); !ok {
		for _, e := range errs {
			t.Errorf("%s: %s", e.Message, e.Reason)
			for _, f := range e.SchemaValidationErrors {
				t.Errorf("  %s", f.Error())
			}
		}
	}
	// Every API v1 method under both base paths, in GET and POST.
	ops := map[operation]bool{}
	for _, op := range documented(t) {
		ops[op] = true
	}
	for _, base := range []string{"/api/courseprovider/rest/", "/mintra/api/courseprovider/rest/"} {
		for _, p := range []string{"v1/courses/get", "v1/courses/get/{externalCourseId}/courseClasses",
			"v1/courses/get/{externalCourseId}/courseClasses/add", "v1/courses/get/{externalCourseId}/courseClasses/update",
			"v1/courses/get/{externalCourseId}/courseClasses/cancel/{externalCourseClassId}",
			"v1/courses/get/{externalCourseId}/courseClasses/restore/{externalCourseClassId}",
			"v1/booking/get/{bookingReference}", "v1/booking/update/{bookingReference}",
			"v1/booking/uploadDocumentation/{bookingReference}"} {
			for _, m := range []string{"GET", "POST"} {
				if !ops[operation{m, base + p}] {
					t.Errorf("%s %s is not described", m, base+p)
				}
			}
		}
	}
}

// newServer is the portal's handler with both APIs, as cmd/tportal wires it.
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	db := storetest.Open(t, "sqlite")
	cat := &catalog.Service{Store: db, DefaultZone: "Europe/Oslo"}
	bookings := &booking.Service{Store: db}
	reg := server.NewRegistry()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := server.Handler(db, reg, server.NewMetrics(reg), logger,
		&courseprovider.API{Catalog: cat, Bookings: bookings, Auth: auth.New(db)},
		&portal.API{Catalog: cat, Bookings: bookings, Tokens: &auth.TokenAuth{Store: db}})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestTheDocumentIsServed(t *testing.T) {
	srv := newServer(t)
	for _, path := range []string{"/api/courseprovider/rest/openapi.json", "/mintra/api/courseprovider/rest/openapi.json", "/api/v1/openapi.json"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || !bytes.Equal(body, openapi.Document) {
			t.Errorf("GET %s: %d %s, %d bytes", path, res.StatusCode, res.Header.Get("Content-Type"), len(body))
		}
	}
}

var pathVariable = regexp.MustCompile(`\{[^}]+\}`)

// Every described operation reaches a handler of its own: not the 404 of an unknown
// path, not the 405 of another method. Without credentials the API methods answer
// 401, the description 200.
func TestEveryDescribedOperationIsServed(t *testing.T) {
	srv := newServer(t)
	for _, op := range documented(t) {
		path := pathVariable.ReplaceAllString(op.path, "x1")
		req, err := http.NewRequestWithContext(context.Background(), op.method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		// 429: the failed logins of this loop are slowed down, after the route was found.
		served := res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusTooManyRequests
		if strings.HasSuffix(op.path, "/openapi.json") {
			served = res.StatusCode == http.StatusOK
		}
		if !served {
			t.Errorf("%s %s: answered %d, not by a route of its own: %s", op.method, op.path, res.StatusCode, body)
		}
	}
}

// routeRecorder is a server.Mux that only records the patterns registered on it.
type routeRecorder struct{ patterns []string }

func (r *routeRecorder) Handle(pattern string, _ http.Handler) {
	r.patterns = append(r.patterns, pattern)
}
func (r *routeRecorder) HandleFunc(pattern string, _ func(http.ResponseWriter, *http.Request)) {
	r.patterns = append(r.patterns, pattern)
}

// The other direction of TestEveryDescribedOperationIsServed: every route an API
// registers with a method is described, so a new endpoint cannot ship undocumented.
// Patterns without a method are the 405 and 404 answers of known and unknown paths.
func TestEveryServedRouteIsDescribed(t *testing.T) {
	described := map[operation]bool{}
	for _, op := range documented(t) {
		described[operation{op.method, pathVariable.ReplaceAllString(op.path, "{}")}] = true
	}
	db := storetest.Open(t, "sqlite")
	cat := &catalog.Service{Store: db}
	bookings := &booking.Service{Store: db}
	rec := &routeRecorder{}
	(&courseprovider.API{Catalog: cat, Bookings: bookings, Auth: auth.New(db)}).Register(rec)
	(&portal.API{Catalog: cat, Bookings: bookings, Tokens: &auth.TokenAuth{Store: db}}).Register(rec)
	routes := 0
	for _, pattern := range rec.patterns {
		method, path, ok := strings.Cut(pattern, " ")
		if !ok {
			continue
		}
		routes++
		if !described[operation{method, pathVariable.ReplaceAllString(path, "{}")}] {
			t.Errorf("%s %s is served but not described in openapi.json", method, path)
		}
	}
	if routes < 2*9*2+7 { // API v1: 9 methods × GET and POST × 2 base paths; /api/v1: 7 routes
		t.Errorf("recorded only %d routes with a method: %q", routes, rec.patterns)
	}
}
