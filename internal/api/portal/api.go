// Package portal serves the portal's own booking API under /api/v1/: JSON for the
// portal's web pages and for companies' own systems, authenticated by API tokens
// (Authorization: Bearer <token>). It lists courses and classes, books seats through
// booking.Service (which calls the provider's reserve URL before it answers), shows a
// booking and cancels it.
package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tportal/tportal/internal/api/openapi"
	"github.com/tportal/tportal/internal/api/wire"
	"github.com/tportal/tportal/internal/auth"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/server"
)

// Base is the path under which the API is served.
const Base = "/api/v1/"

// MaxBodyBytes bounds a request body; a larger one is answered 413.
const MaxBodyBytes = 64 << 10

// TokenChecker checks an API token; *auth.TokenAuth satisfies it.
type TokenChecker interface {
	CheckToken(ctx context.Context, token string) (auth.Token, error)
}

// ClassFinder searches classes; *catalog.Service satisfies it.
type ClassFinder interface {
	FindClasses(ctx context.Context, f catalog.ClassFilter) ([]catalog.Class, error)
}

// API is the portal's booking API.
type API struct {
	Catalog  *catalog.Service
	Bookings *booking.Service
	Tokens   TokenChecker
	Classes  ClassFinder // Catalog when nil

	classCache classCache // answers of GET classes?course=…; see classes
}

// Register adds the API's routes to mux. A known path called with another method is
// answered 405 with Allow; an unknown path under Base 404, both in the error shape.
func (a *API) Register(mux server.Mux) {
	routes := []struct {
		method, path string
		h            http.Handler
	}{
		{"GET", Base + "courses", a.list(a.courses)},
		{"GET", Base + "classes", a.list(a.classes)},
		{"POST", Base + "bookings", a.booking(a.book)},
		{"GET", Base + "bookings", noStore(a.list(a.listBookings))},
		{"GET", Base + "bookings/{ref}", a.booking(a.get)},
		{"POST", Base + "bookings/{ref}/cancel", a.booking(a.cancel)},
		{"GET", Base + "bookings/{ref}/documents/{id}", http.HandlerFunc(a.download)},
	}
	var paths []string
	methods := map[string][]string{} // path -> its methods, for 405 answers
	for _, rt := range routes {
		mux.Handle(rt.method+" "+rt.path, rt.h)
		if methods[rt.path] == nil {
			paths = append(paths, rt.path)
		}
		methods[rt.path] = append(methods[rt.path], rt.method)
		if rt.method == "GET" {
			methods[rt.path] = append(methods[rt.path], "HEAD")
		}
	}
	for _, path := range paths {
		allow := strings.Join(methods[path], ", ")
		use := strings.Join(slices.DeleteFunc(slices.Clone(methods[path]), func(m string) bool { return m == "HEAD" }), " or ")
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeJSON(w, r, http.StatusMethodNotAllowed, errorBody{ErrorMessage: r.Method + " is not allowed here; use " + use})
		})
	}
	mux.Handle("GET "+Base+openapi.Path, openapi.Handler()) // the OpenAPI description
	notFound := func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, errs.E(errs.NotFound, "no API method at %s", r.URL.Path))
	}
	mux.HandleFunc(Base, notFound)
	// Without this, ServeMux would redirect the base without its slash to the base.
	mux.HandleFunc(strings.TrimSuffix(Base, "/"), notFound)
}

// authenticate checks the request's bearer token.
func (a *API) authenticate(r *http.Request) (auth.Token, error) {
	return a.Tokens.CheckToken(r.Context(), bearerToken(r))
}

// bearerToken returns the token of an "Authorization: Bearer <token>" header, or "".
func bearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// list serves a read-only method whose answer is a JSON value, errors in the error shape.
// h gets the request's authenticated token.
func (a *API) list(h func(r *http.Request, tok auth.Token) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, err := a.authenticate(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if err := checkRequestText(r); err != nil {
			writeError(w, r, err)
			return
		}
		body, err := h(r, tok)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, r, http.StatusOK, body)
	})
}

// booking serves a method whose answer is a booking answer: bookingReference, status
// and errorMessage always, and the booking's fields when there is a booking, success
// or not. h gets the request's authenticated token as an argument (not in a copy of
// the request with it in its context: a request and a context allocated per call for
// one value) and returns the booking concerned (zero when none), the success status, and
// made: whether this request made the booking, in which case its documents are not
// read (a query per booking, 2-4 % of a booking's CPU): a booking made a moment ago
// has none, as a provider uploads them to a booking it has reserved. One the
// provider uploaded while its own reserve call was in flight is listed from the
// next GET on.
func (a *API) booking(h func(w http.ResponseWriter, r *http.Request, tok auth.Token) (b booking.Booking, status int, made bool, err error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store") // personal data
		tok, err := a.authenticate(r)
		if err != nil {
			writeBooking(w, r, 0, booking.Booking{}, nil, err)
			return
		}
		if err := checkRequestText(r); err != nil {
			writeBooking(w, r, 0, booking.Booking{}, nil, err)
			return
		}
		b, status, made, err := h(w, r, tok)
		var docs []booking.Document
		if b.ID != 0 && !made {
			var derr error
			if docs, derr = a.Bookings.Documents(r.Context(), b); derr != nil {
				writeBooking(w, r, 0, b, nil, derr)
				return
			}
		}
		writeBooking(w, r, status, b, docs, err)
	})
}

// download sends a document's content as an attachment.
func (a *API) download(w http.ResponseWriter, r *http.Request) {
	tok, err := a.authenticate(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := checkRequestText(r); err != nil {
		writeError(w, r, err)
		return
	}
	b, err := a.Bookings.GetFor(r.Context(), r.PathValue("ref"), tok.CompanyID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, r, errs.E(errs.NotFound, "no document %q", r.PathValue("id")))
		return
	}
	d, err := a.Bookings.Document(r.Context(), b, id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", d.ContentType)
	h.Set("Content-Length", strconv.FormatInt(int64(len(d.Content)), 10))
	// FormatMediaType quotes the name, or encodes it (RFC 2231) when it is not plain
	// ASCII; a name it cannot write leaves a bare attachment, never an inline document.
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": d.FileName})
	if disposition == "" {
		disposition = "attachment"
	}
	h.Set("Content-Disposition", disposition)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
	h.Set("ETag", `"`+d.SHA256+`"`)
	_, _ = w.Write(d.Content)
}

func (a *API) classFinder() ClassFinder {
	if a.Classes != nil {
		return a.Classes
	}
	return a.Catalog
}

func (a *API) courses(r *http.Request, _ auth.Token) (any, error) {
	courses, err := a.Catalog.AllCourses(r.Context(), "")
	if err != nil {
		return nil, err
	}
	providers, err := a.Catalog.Store.Providers(r.Context())
	if err != nil {
		return nil, err
	}
	names := make(map[int64]string, len(providers))
	for _, p := range providers {
		names[p.ID] = p.Name
	}
	out := make([]courseDTO, 0, len(courses))
	for _, c := range courses {
		out = append(out, courseDTO{ID: c.ID, ExternalCourseID: c.ExternalID, Name: c.Name, Description: c.Description, ProviderName: names[c.ProviderID]})
	}
	return out, nil
}

// classes lists classes. With a course, the answer is cached while the course's
// ClassesVersion (one cheap query) is the one it was built at: the database bumps it
// in the same transaction as every write to the course's classes, so a change made
// through any instance sharing the database shows at once. Only the latest filter of
// each course is kept, so the cache is bounded by the number of courses.
func (a *API) classes(r *http.Request, _ auth.Token) (any, error) {
	f, err := classFilter(r)
	if err != nil {
		return nil, err
	}
	var version int64
	cacheable := f.CourseID != 0 && a.Classes == nil
	key := strings.Join([]string{f.Location, dateKey(f.From), dateKey(f.To), strconv.FormatBool(f.FreeSeatsOnly)}, "\x00")
	if cacheable {
		v, ok, err := a.Catalog.ClassesVersion(r.Context(), f.CourseID)
		switch {
		case errs.Is(err, errs.NotFound):
			cacheable = false // no such course: the search answers it as ever
		case err != nil:
			return nil, err
		case !ok:
			cacheable = false
		}
		version = v
		if body, hit := a.classCache.get(f.CourseID, key, version); hit && cacheable {
			return body, nil
		}
	}
	// Read after the version, so the classes are at least as new as it.
	classes, err := a.classFinder().FindClasses(r.Context(), f)
	if err != nil {
		return nil, err
	}
	// Encoded by hand (the same bytes as json.Encoder's for []classDTO), without
	// reflection: a list of every class is long.
	b := append(make([]byte, 0, 512*len(classes)+2), '[')
	var prefix []byte
	for i, c := range classes {
		if i > 0 {
			b = append(b, ',')
		}
		d := toClassDTO(c)
		prefix = append(prefix[:0], `"id":`...)
		prefix = strconv.AppendInt(prefix, d.ID, 10)
		prefix = append(prefix, `,"courseId":`...)
		prefix = append(strconv.AppendInt(prefix, d.CourseID, 10), ',')
		b = wire.AppendJSON(b, string(prefix), &d.Class)
	}
	body := rawJSON(append(b, "]\n"...))
	if cacheable {
		a.classCache.put(f.CourseID, key, version, body)
	}
	return body, nil
}

// dateKey is d for a cache key; "" for none.
func dateKey(d *catalog.Date) string {
	if d == nil {
		return ""
	}
	return d.String()
}

// rawJSON is an answer already encoded as JSON.
type rawJSON []byte

// classCache keeps, per course, the latest encoded answer with its filter and the
// ClassesVersion it was built at.
type classCache struct {
	m sync.Map // course id -> *cachedClasses
}

type cachedClasses struct {
	filter  string
	version int64
	body    rawJSON
}

func (c *classCache) get(courseID int64, filter string, version int64) (rawJSON, bool) {
	v, ok := c.m.Load(courseID)
	if !ok {
		return nil, false
	}
	e := v.(*cachedClasses)
	return e.body, e.filter == filter && e.version == version
}

func (c *classCache) put(courseID int64, filter string, version int64, body rawJSON) {
	c.m.Store(courseID, &cachedClasses{filter: filter, version: version, body: body})
}

// classFilter reads the query parameters course, location, from, to and freeSeats,
// naming every bad one.
func classFilter(r *http.Request) (catalog.ClassFilter, error) {
	q := r.URL.Query()
	var f catalog.ClassFilter
	var problems []string
	bad := func(field, msg string) { problems = append(problems, field+": "+msg) }
	if v := strings.TrimSpace(q.Get("course")); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			bad("course", strconv.Quote(v)+" is not a course id")
		}
		f.CourseID = id
	}
	f.Location = q.Get("location")
	for _, d := range []struct {
		name string
		dst  **catalog.Date
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := strings.TrimSpace(q.Get(d.name)); v != "" {
			date, err := catalog.ParseDateInput(v)
			if err != nil {
				bad(d.name, err.Error())
				continue
			}
			*d.dst = &date
		}
	}
	if v := strings.TrimSpace(q.Get("freeSeats")); v != "" {
		free, err := strconv.ParseBool(v)
		if err != nil {
			bad("freeSeats", strconv.Quote(v)+" is not true or false")
		}
		f.FreeSeatsOnly = free
	}
	if len(problems) > 0 {
		return f, errs.E(errs.Invalid, "%s", strings.Join(problems, "; "))
	}
	return f, nil
}

// book makes a booking. Without an Idempotency-Key the booking answered is always
// the one this request made; with one it may be the one an earlier request made,
// which may have documents by now.
func (a *API) book(w http.ResponseWriter, r *http.Request, tok auth.Token) (booking.Booking, int, bool, error) {
	var in bookRequest
	if err := readJSON(w, r, &in); err != nil {
		return booking.Booking{}, 0, false, err
	}
	req := in.toRequest()
	if key := strings.TrimSpace(r.Header.Get("Idempotency-Key")); key != "" {
		if err := catalog.CheckText("Idempotency-Key", key, false); err != nil {
			return booking.Booking{}, 0, false, err
		}
		if tooLong := catalog.TooLong(key, 255); tooLong != "" {
			return booking.Booking{}, 0, false, errs.E(errs.Invalid, "Idempotency-Key: %s", tooLong)
		}
		// Scoped by token: one caller's key never finds another caller's booking.
		req.IdempotencyKey = strconv.FormatInt(tok.ID, 10) + ":" + key
	}
	// A company's token books for its company; a portal-wide token for none.
	req.CompanyID = tok.CompanyID
	b, err := a.Bookings.Book(r.Context(), req)
	if err == nil {
		w.Header().Set("Location", Base+"bookings/"+b.Reference)
	}
	return b, http.StatusCreated, req.IdempotencyKey == "", err
}

// get shows a booking: a company's token sees only its company's bookings (another's
// is not found, as an unknown reference); a portal-wide token sees any.
func (a *API) get(_ http.ResponseWriter, r *http.Request, tok auth.Token) (booking.Booking, int, bool, error) {
	b, err := a.Bookings.GetFor(r.Context(), r.PathValue("ref"), tok.CompanyID)
	return b, http.StatusOK, false, err
}

func (a *API) cancel(_ http.ResponseWriter, r *http.Request, tok auth.Token) (booking.Booking, int, bool, error) {
	b, err := a.Bookings.CancelFor(r.Context(), r.PathValue("ref"), tok.CompanyID)
	return b, http.StatusOK, false, err
}

// readJSON decodes the request body, at most MaxBodyBytes, into v. Unknown fields are
// ignored; anything that is not one JSON object of the right types is errs.Invalid.
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return errs.E(errs.TooLarge, "the request body is larger than %d KiB", MaxBodyBytes>>10)
		}
		return errs.E(errs.Invalid, "the request body could not be read")
	}
	if len(bytes.TrimSpace(body)) == 0 { // not a string copy of the body, just to look at it
		return errs.E(errs.Invalid, "the request body is empty; send a JSON object")
	}
	if !utf8.Valid(body) {
		return errs.E(errs.Invalid, "the request body is not valid UTF-8; JSON is sent in UTF-8")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		var fieldErr *errs.Error
		switch {
		case errors.As(err, &fieldErr):
			return fieldErr
		case errors.As(err, &typeErr) && typeErr.Field != "":
			return errs.E(errs.Invalid, "%s: must be a JSON %s, not %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
		case errors.As(err, &typeErr):
			return errs.E(errs.Invalid, "the request body must be a JSON object, not %s", typeErr.Value)
		case errors.As(err, &syntaxErr) && syntaxErr.Offset >= int64(len(body)):
			return errs.E(errs.Invalid, "the request body is not valid JSON: it ends before the JSON value does")
		case errors.As(err, &syntaxErr):
			return errs.E(errs.Invalid, "the request body is not valid JSON: a syntax error at byte %d", syntaxErr.Offset)
		}
		return errs.E(errs.Invalid, "the request body is not valid JSON")
	}
	// The typed decoding above gives the clearer message for a malformed body; the
	// text rule is applied to every string of the well-formed one, unless no string
	// can break it (the usual body: decoding it again into maps was 1-2 % of a
	// booking's CPU).
	if plainJSONText(body) {
		return nil
	}
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		return errs.E(errs.Invalid, "the request body is not valid JSON")
	}
	return checkJSONText("", doc)
}

// plainJSONText reports whether no key or string of a valid JSON text in valid UTF-8
// can break the text rule (catalog.TextProblem): it has no escape (a backslash) and
// no control character, C0 (U+0000-U+001F, U+007F) or C1 (U+0080-U+009F, written
// 0xC2 0x80-0x9F). Bytes below 0x20 can then only be whitespace between tokens, as
// valid JSON has none in its strings.
func plainJSONText(body []byte) bool {
	for i, c := range body {
		switch {
		case c == '\\' || c == 0x7f:
			return false
		case c == 0xc2 && i+1 < len(body) && body[i+1] >= 0x80 && body[i+1] <= 0x9f:
			return false
		}
	}
	return true
}

// freeTextFields may hold tab and line breaks.
var freeTextFields = map[string]bool{"commentOnEnrollment": true}

// checkJSONText applies the text rule to every key and string in v, naming each by
// its dotted path (student.firstName).
func checkJSONText(path string, v any) error {
	switch v := v.(type) {
	case string:
		return catalog.CheckText(path, v, freeTextFields[path])
	case map[string]any:
		for k, child := range v {
			name := k
			if path != "" {
				name = path + "." + k
			}
			if problem := catalog.TextProblem(k, false); problem != "" {
				return errs.E(errs.Invalid, "the field name %s %s", strconv.QuoteToASCII(name), problem)
			}
			if err := checkJSONText(name, child); err != nil {
				return err
			}
		}
	case []any:
		for i, child := range v {
			if err := checkJSONText(path+"["+strconv.Itoa(i)+"]", child); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkRequestText applies the text rule to the path variables and query parameters
// a route reads, before anything reaches the database.
func checkRequestText(r *http.Request) error {
	for _, pv := range []struct{ name, field string }{{"ref", "bookingReference"}, {"id", "document id"}} {
		if err := catalog.CheckText(pv.field, r.PathValue(pv.name), false); err != nil {
			return err
		}
	}
	for name, vs := range r.URL.Query() {
		if problem := catalog.TextProblem(name, false); problem != "" {
			return errs.E(errs.Invalid, "the parameter name %s %s", strconv.QuoteToASCII(name), problem)
		}
		for _, v := range vs {
			if err := catalog.CheckText(name, v, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// jsonKind names a Go kind as its JSON type.
func jsonKind(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"), strings.HasPrefix(k, "float"):
		return "number"
	case k == "struct", k == "map":
		return "object"
	case k == "slice":
		return "array"
	case k == "bool":
		return "boolean"
	}
	return k
}

// writeJSON sends v as JSON with the status.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	if raw, ok := v.(rawJSON); ok {
		_, _ = w.Write(raw)
		return
	}
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.ErrorContext(r.Context(), "encode json", "err", err)
	}
}

// errorBody is the error shape of every method that answers no booking.
type errorBody struct {
	ErrorMessage string `json:"errorMessage"`
}

// failure sets the headers err calls for and returns its status and message. Internal
// errors are logged with their cause and shown only generically.
func failure(w http.ResponseWriter, r *http.Request, err error) (int, string) {
	switch errs.CodeOf(err) {
	case errs.Internal:
		slog.ErrorContext(r.Context(), "internal error", "route", r.Pattern, "err", err)
	case errs.Unauthorized:
		challenge := `Bearer realm="tportal"`
		if bearerToken(r) != "" {
			challenge += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
	case errs.RateLimited:
		w.Header().Set("Retry-After", "10")
	case errs.Unavailable:
		w.Header().Set("Retry-After", "1")
	}
	if wait := errs.RetryAfterOf(err); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(max(wait.Round(time.Second), time.Second).Seconds())))
	}
	return errs.HTTPStatus(err), errs.MessageOf(err)
}

// writeError sends err in the error shape with the status of the one errs table.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := failure(w, r, err)
	writeJSON(w, r, status, errorBody{ErrorMessage: msg})
}

// writeBooking sends a booking answer: status on success, the error's status otherwise.
func writeBooking(w http.ResponseWriter, r *http.Request, status int, b booking.Booking, docs []booking.Document, err error) {
	out := bookingAnswer{BookingReference: b.Reference, Status: string(b.State)}
	if err != nil {
		status, out.ErrorMessage = failure(w, r, err)
	}
	if b.Reference != "" {
		out.bookingDTO = toBookingDTO(b, docs)
	}
	writeJSON(w, r, status, out)
}
