// Package courseprovider serves the course-provider API v1 under
// /api/courseprovider/rest/ and, as the public service does, under
// /mintra/api/courseprovider/rest/: the catalogue methods and the booking methods.
// It decodes the documented conventions (GET or POST, form, query or multipart
// parameters, username+password or HTTP Basic), calls the domain services, and writes
// JSON or XML.
package courseprovider

import (
	"context"
	"net/http"
	"strings"

	"github.com/tportal/tportal/internal/api/openapi"
	"github.com/tportal/tportal/internal/api/wire"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/server"
)

// Base is the path under which the API is served.
const Base = "/api/courseprovider/rest/"

// PublicBase is the public service's path for the same API; it is served too, so that
// a provider switches between the public service and this portal by the host alone.
const PublicBase = "/mintra" + Base

// Bases are the paths under which the API is served, with identical behaviour. Metrics
// and logs name the route with the base the caller used.
var Bases = []string{Base, PublicBase}

// Authenticator checks credentials; *auth.Authenticator satisfies it.
type Authenticator interface {
	Authenticate(ctx context.Context, clientKey, username, password string) (catalog.Provider, error)
}

// CourseAuthenticator is an Authenticator that also reads the provider's course named
// in the path, in the same query; *auth.Authenticator satisfies it.
type CourseAuthenticator interface {
	AuthenticateCourse(ctx context.Context, clientKey, username, password, externalCourseID string) (catalog.Provider, *catalog.Course, error)
}

// API is the course-provider API v1.
type API struct {
	Catalog        *catalog.Service
	Bookings       *booking.Service
	Auth           Authenticator
	TrustForwarded bool // take the client address from X-Forwarded-For (behind a proxy)
	// DefaultCountry (ISO 3166-1 alpha-2) is the country of phone numbers given without
	// a country code; DefaultCountryCode ("NO") when empty.
	DefaultCountry string

	// classes and courses cache encoded answers of getCourseClasses (by course) and
	// getCourses (by provider); see those methods.
	classes, courses answerCache
}

// handler is one API method: it gets the authenticated provider and the parameters
// and returns the response body or an error.
type handler func(r *http.Request, p catalog.Provider, in params) (any, error)

// route is a method, the most its request body may hold, and whether it only reads
// (and so answers HEAD).
type route struct {
	h        handler
	limit    int64
	readOnly bool
}

// Register adds the API's routes under each of Bases to mux. Every method answers GET
// and POST.
func (a *API) Register(mux server.Mux) {
	for _, base := range Bases {
		a.register(mux, base)
	}
}

func (a *API) register(mux server.Mux, base string) {
	courses := base + "v1/courses/get"
	classes := courses + "/{externalCourseId}/courseClasses"
	routes := map[string]route{
		courses:             {a.getCourses, maxFormBytes, true},
		classes:             {a.getCourseClasses, maxFormBytes, true},
		classes + "/add":    {a.addClass, maxFormBytes, false},
		classes + "/update": {a.updateClass, maxFormBytes, false},
		classes + "/cancel/{externalCourseClassId}":                {a.cancelClass, maxFormBytes, false},
		classes + "/restore/{externalCourseClassId}":               {a.restoreClass, maxFormBytes, false},
		base + "v1/booking/get/{bookingReference}":                 {a.getBookingInformation, maxFormBytes, true},
		base + "v1/booking/update/{bookingReference}":              {a.updateBookingStatus, maxFormBytes, false},
		base + "v1/booking/uploadDocumentation/{bookingReference}": {a.uploadDocumentation, a.uploadBodyLimit(), false},
	}
	for path, rt := range routes {
		// A "GET" pattern also matches HEAD; serve refuses HEAD on a method that
		// changes data, since a HEAD must never change anything.
		mux.Handle("GET "+path, a.serve(rt))
		mux.Handle("POST "+path, a.serve(rt))
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			methodNotAllowed(w, r, rt.readOnly)
		})
	}
	mux.Handle("GET "+base+openapi.Path, openapi.Handler()) // the OpenAPI description
	notFound := func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, errs.E(errs.NotFound, "no API method at %s", r.URL.Path))
	}
	mux.HandleFunc(base, notFound)
	// Without this, ServeMux would redirect the base without its slash to the base.
	mux.HandleFunc(strings.TrimSuffix(base, "/"), notFound)
}

// methodNotAllowed answers 405 with the methods the route takes.
func methodNotAllowed(w http.ResponseWriter, r *http.Request, readOnly bool) {
	allow := "GET, POST"
	if readOnly {
		allow = "GET, HEAD, POST"
	}
	w.Header().Set("Allow", allow)
	write(w, r, http.StatusMethodNotAllowed, errorBody{ErrorMessage: r.Method + " is not allowed here; use GET or POST"})
}

func (a *API) serve(rt route) http.Handler {
	h := rt.h
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead && !rt.readOnly {
			methodNotAllowed(w, r, false)
			return
		}
		if err := checkPathValues(r, "externalCourseId", "externalCourseClassId", "bookingReference"); err != nil {
			writeError(w, r, err)
			return
		}
		in, err := readParams(w, r, rt.limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		user, pass := in.credentials(r)
		p, r, err := a.authenticate(r, user, pass)
		if err != nil {
			writeError(w, r, err)
			return
		}
		body, err := h(r, p, in)
		if err != nil {
			writeError(w, r, err)
			return
		}
		write(w, r, http.StatusOK, body)
	})
}

// authenticate checks the credentials. On a course's methods it reads the course in
// the same query when the Authenticator can, and puts it in the request's context for
// catalog.Service.Course, which then needs no query of its own.
func (a *API) authenticate(r *http.Request, user, pass string) (catalog.Provider, *http.Request, error) {
	ext := r.PathValue("externalCourseId")
	ca, ok := a.Auth.(CourseAuthenticator)
	if ext == "" || !ok {
		p, err := a.Auth.Authenticate(r.Context(), ClientIP(r, a.TrustForwarded), user, pass)
		return p, r, err
	}
	p, course, err := ca.AuthenticateCourse(r.Context(), ClientIP(r, a.TrustForwarded), user, pass, ext)
	if err == nil && course != nil {
		r = r.WithContext(catalog.WithCourse(r.Context(), *course))
	}
	return p, r, err
}

// getCourses answers from a cache of encoded answers while the provider's
// CoursesVersion, read with the credentials, is the one the answer was built at; see
// getCourseClasses.
func (a *API) getCourses(r *http.Request, p catalog.Provider, _ params) (any, error) {
	asXML := wantsXML(r)
	return a.courses.answer(r.Context(), p.ID, asXML, p.CoursesVersion, func(ctx context.Context, sizeHint int) (rawBody, error) {
		courses, err := a.Catalog.Courses(ctx, p)
		if err != nil {
			return rawBody{}, err
		}
		out := courseList{Courses: make([]courseDTO, 0, len(courses))}
		for _, c := range courses {
			out.Courses = append(out.Courses, toCourseDTO(c))
		}
		return encoded(listBody{xml: out, json: out.Courses}, asXML, sizeHint)
	})
}

// getCourseClasses answers from a cache of encoded answers while the course's
// ClassesVersion — read with the credentials, in the same query — is the one the
// cached answer was built at. The database bumps the version in the same transaction
// as every write to the course's classes, so a change made through any instance
// sharing the database is seen by the next call on every instance. Callers that miss
// at once share one build (answerCache.answer).
func (a *API) getCourseClasses(r *http.Request, p catalog.Provider, _ params) (any, error) {
	course, err := a.Catalog.Course(r.Context(), p, r.PathValue("externalCourseId"))
	if err != nil {
		return nil, err
	}
	asXML := wantsXML(r)
	return a.classes.answer(r.Context(), course.ID, asXML, course.ClassesVersion, func(ctx context.Context, sizeHint int) (rawBody, error) {
		// The classes are read after the version, so they are at least as new as it.
		classes, err := a.Catalog.Classes(ctx, p, course.ExternalID)
		if err != nil {
			return rawBody{}, err
		}
		if asXML {
			out := classList{Classes: make([]wire.Class, 0, len(classes))}
			for _, c := range classes {
				out.Classes = append(out.Classes, wire.FromClass(c))
			}
			return encoded(listBody{xml: out, json: out.Classes}, asXML, sizeHint)
		}
		// The same bytes as json.Encoder's, without reflection (a miss follows every
		// write to the course, bookings included), each class converted as it is
		// written, into a buffer of about the previous answer's size.
		if sizeHint == 0 {
			sizeHint = len(classes) * jsonClassBytes
		}
		b := wire.AppendJSONArray(make([]byte, 0, sizeHint+sizeHint/16), len(classes), func(i int) (string, wire.Class) {
			return "", wire.FromClass(classes[i])
		})
		return rawBody{contentType: contentType(false), body: fitted(b)}, nil
	})
}

// jsonClassBytes is about the length of a class in a JSON answer, for the first
// answer's buffer (later ones start from the previous answer's length).
const jsonClassBytes = 512

func (a *API) addClass(r *http.Request, p catalog.Provider, in params) (any, error) {
	c, err := a.Catalog.AddClass(r.Context(), p, r.PathValue("externalCourseId"), in.classFields())
	return wire.FromClass(c), err
}

func (a *API) updateClass(r *http.Request, p catalog.Provider, in params) (any, error) {
	c, err := a.Catalog.UpdateClass(r.Context(), p, r.PathValue("externalCourseId"), in.classFields())
	return wire.FromClass(c), err
}

func (a *API) cancelClass(r *http.Request, p catalog.Provider, _ params) (any, error) {
	_, err := a.Catalog.CancelClass(r.Context(), p, r.PathValue("externalCourseId"), r.PathValue("externalCourseClassId"))
	return succeeded(""), err
}

func (a *API) restoreClass(r *http.Request, p catalog.Provider, _ params) (any, error) {
	_, err := a.Catalog.RestoreClass(r.Context(), p, r.PathValue("externalCourseId"), r.PathValue("externalCourseClassId"))
	return succeeded(""), err
}

// checkPathValues applies the text rule to the path variables present.
func checkPathValues(r *http.Request, names ...string) error {
	for _, name := range names {
		if err := catalog.CheckText(name, r.PathValue(name), false); err != nil {
			return err
		}
	}
	return nil
}

// listBody is a list that is a bare array in JSON and a wrapped element in XML, since
// XML needs one root element.
type listBody struct {
	xml  any
	json any
}
