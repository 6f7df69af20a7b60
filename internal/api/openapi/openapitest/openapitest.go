// Package openapitest checks HTTP exchanges against the portal's OpenAPI description,
// for the API test suites: every request a suite sends and every answer it gets.
//
// The rules:
//   - an answer to a request the description covers (its path and method) must match
//     the description: its status is listed, its body fits the schema (JSON and XML);
//   - a request the description calls invalid must be refused (4xx), never accepted;
//   - a request to a path or method the description does not list is not checked
//     further (405 and 404 answers to such requests are the API's own business).
package openapitest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/helpers"

	"github.com/tportal/tportal/internal/api/openapi"
)

var (
	once     sync.Once
	shared   validator.Validator
	buildErr error
	mu       sync.Mutex // the validator's caches are not documented as safe for concurrent use
)

// Validator returns the validator of the embedded description, built once.
func Validator() (validator.Validator, error) {
	once.Do(func() {
		doc, err := libopenapi.NewDocument(openapi.Document)
		if err != nil {
			buildErr = fmt.Errorf("parse the OpenAPI description: %w", err)
			return
		}
		// JSON bodies are checked against the schemas; XML and form bodies are not
		// decoded (the standard XML decoder reads every value as a string).
		v, errs := validator.NewValidator(doc)
		if len(errs) > 0 {
			buildErr = fmt.Errorf("build the OpenAPI validator: %v", errs)
			return
		}
		shared = v
	})
	return shared, buildErr
}

// Exchange is one request and its answer, with both bodies read.
type Exchange struct {
	Request      *http.Request
	RequestBody  []byte
	Response     *http.Response
	ResponseBody []byte
}

// Check validates the exchange and returns the problems found, none when it conforms.
func Check(x Exchange) ([]string, error) {
	v, err := Validator()
	if err != nil {
		return nil, err
	}
	if x.Request.Method == http.MethodHead {
		return nil, nil // HEAD is GET without a body; the GET exchange is checked
	}
	mu.Lock()
	defer mu.Unlock()

	req := x.Request.Clone(x.Request.Context())
	req.Body = io.NopCloser(bytes.NewReader(x.RequestBody))
	req.ContentLength = int64(len(x.RequestBody))
	reqOK, reqErrs := v.ValidateHttpRequestSync(req)
	if !reqOK && undocumented(reqErrs) {
		return nil, nil
	}
	var problems []string
	status := x.Response.StatusCode
	if !reqOK && status < 400 {
		problems = append(problems, fmt.Sprintf("%s %s: the description calls the request invalid, but it was answered %d: %s",
			x.Request.Method, x.Request.URL.Path, status, describe(reqErrs)))
	}

	res := *x.Response
	res.Body = io.NopCloser(bytes.NewReader(x.ResponseBody))
	req.Body = io.NopCloser(bytes.NewReader(x.RequestBody))
	res.Request = req
	if ok, errs := v.ValidateHttpResponse(req, &res); !ok {
		problems = append(problems, fmt.Sprintf("%s %s: answer %d does not match the description: %s",
			x.Request.Method, x.Request.URL.Path, status, describe(errs)))
	}
	return problems, nil
}

// undocumented reports whether the errors say the path or method is not in the description.
func undocumented(errs []*verrors.ValidationError) bool {
	for _, e := range errs {
		if e.ValidationType == helpers.PathValidation {
			return true
		}
	}
	return false
}

func describe(errs []*verrors.ValidationError) string {
	var parts []string
	for _, e := range errs {
		s := e.Message
		if e.Reason != "" && e.Reason != e.Message {
			s += " (" + e.Reason + ")"
		}
		for _, f := range e.SchemaValidationErrors {
			s += "; " + f.Error()
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " | ")
}

// KnownGap is a difference between the description (written from SPEC) and today's
// server that another change is known to close. It is reported, not failed, so the
// gap stays visible without turning the suites red meanwhile.
type KnownGap struct {
	Contains string // a problem containing this text is this gap
	Why      string // which change closes it
}

// KnownGaps are the gaps between the description and the server on this branch.
var KnownGaps = []KnownGap{}

// Record checks the exchange and fails t for every problem that is not a known gap;
// known gaps are logged.
func Record(t testing.TB, x Exchange) {
	t.Helper()
	problems, err := Check(x)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if gap, ok := knownGap(p); ok {
			t.Logf("OpenAPI known gap (%s): %s", gap.Why, p)
			continue
		}
		t.Errorf("OpenAPI: %s", p)
	}
}

func knownGap(problem string) (KnownGap, bool) {
	for _, g := range KnownGaps {
		if strings.Contains(problem, g.Contains) {
			return g, true
		}
	}
	return KnownGap{}, false
}

// Do sends req with client (http.DefaultClient when nil), checks the exchange with
// Record, and returns the answer with its body read.
func Do(t testing.TB, client *http.Client, req *http.Request) (*http.Response, []byte, error) {
	t.Helper()
	if client == nil {
		client = http.DefaultClient
	}
	var reqBody []byte
	if req.Body != nil {
		var err error
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			return nil, nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
		req.ContentLength = int64(len(reqBody))
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, nil, err
	}
	Record(t, Exchange{Request: req, RequestBody: reqBody, Response: res, ResponseBody: body})
	return res, body, nil
}

// Transport returns an HTTP transport that sends through next
// (http.DefaultTransport when nil) and checks every exchange with Record, for
// clients such as the SDK that make their own requests.
func Transport(t testing.TB, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return roundTripper{t: t, next: next}
}

type roundTripper struct {
	t    testing.TB
	next http.RoundTripper
}

func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		var err error
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	res, err := rt.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	Record(rt.t, Exchange{Request: req, RequestBody: reqBody, Response: res, ResponseBody: body})
	return res, nil
}
