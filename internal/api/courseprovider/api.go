// Package courseprovider serves the course-provider API v1 under
// /api/courseprovider/rest/: the catalogue methods and, later, the booking methods.
// It decodes the documented conventions (GET or POST, form, query or multipart
// parameters, username+password or HTTP Basic), calls the domain services, and writes
// JSON or XML.
package courseprovider

import (
	"context"
	"net/http"

	"github.com/tportal/tportal/internal/api/openapi"
	"github.com/tportal/tportal/internal/api/wire"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
)

// Base is the path under which the API is served, as on the public service.
const Base = "/api/courseprovider/rest/"

// Authenticator checks credentials; *auth.Authenticator satisfies it.
type Authenticator interface {
	Authenticate(ctx context.Context, clientKey, username, password string) (catalog.Provider, error)
}

// API is the course-provider API v1.
type API struct {
	Catalog        *catalog.Service
	Bookings       *booking.Service
	Auth           Authenticator
	TrustForwarded bool // take the client address from X-Forwarded-For (behind a proxy)
}

// handler is one API method: it gets the authenticated provider and the parameters
// and returns the response body or an error.
type handler func(r *http.Request, p catalog.Provider, in params) (any, error)

// route is a method and the most its request body may hold.
type route struct {
	h     handler
	limit int64
}

// Register adds the API's routes to mux. Every method answers GET and POST.
func (a *API) Register(mux *http.ServeMux) {
	courses := Base + "v1/courses/get"
	classes := courses + "/{externalCourseId}/courseClasses"
	routes := map[string]route{
		courses:             {a.getCourses, maxFormBytes},
		classes:             {a.getCourseClasses, maxFormBytes},
		classes + "/add":    {a.addClass, maxFormBytes},
		classes + "/update": {a.updateClass, maxFormBytes},
		classes + "/cancel/{externalCourseClassId}":                {a.cancelClass, maxFormBytes},
		classes + "/restore/{externalCourseClassId}":               {a.restoreClass, maxFormBytes},
		Base + "v1/booking/get/{bookingReference}":                 {a.getBookingInformation, maxFormBytes},
		Base + "v1/booking/update/{bookingReference}":              {a.updateBookingStatus, maxFormBytes},
		Base + "v1/booking/uploadDocumentation/{bookingReference}": {a.uploadDocumentation, a.uploadBodyLimit()},
	}
	for path, rt := range routes {
		mux.Handle("GET "+path, a.serve(rt))
		mux.Handle("POST "+path, a.serve(rt))
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", "GET, HEAD, POST")
			write(w, r, http.StatusMethodNotAllowed, errorBody{ErrorMessage: r.Method + " is not allowed; use GET or POST"})
		})
	}
	mux.Handle("GET "+Base+openapi.Path, openapi.Handler()) // the OpenAPI description
	mux.HandleFunc(Base, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, errs.E(errs.NotFound, "no API method at %s", r.URL.Path))
	})
}

func (a *API) serve(rt route) http.Handler {
	h := rt.h
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := readParams(w, r, rt.limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		user, pass := in.credentials(r)
		p, err := a.Auth.Authenticate(r.Context(), ClientIP(r, a.TrustForwarded), user, pass)
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

func (a *API) getCourses(r *http.Request, p catalog.Provider, _ params) (any, error) {
	courses, err := a.Catalog.Courses(r.Context(), p)
	if err != nil {
		return nil, err
	}
	out := courseList{Courses: make([]courseDTO, 0, len(courses))}
	for _, c := range courses {
		out.Courses = append(out.Courses, toCourseDTO(c))
	}
	return listBody{xml: out, json: out.Courses}, nil
}

func (a *API) getCourseClasses(r *http.Request, p catalog.Provider, _ params) (any, error) {
	classes, err := a.Catalog.Classes(r.Context(), p, r.PathValue("externalCourseId"))
	if err != nil {
		return nil, err
	}
	out := classList{Classes: make([]wire.Class, 0, len(classes))}
	for _, c := range classes {
		out.Classes = append(out.Classes, wire.FromClass(c))
	}
	return listBody{xml: out, json: out.Classes}, nil
}

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
	return statusMessage{Successful: true}, err
}

func (a *API) restoreClass(r *http.Request, p catalog.Provider, _ params) (any, error) {
	_, err := a.Catalog.RestoreClass(r.Context(), p, r.PathValue("externalCourseId"), r.PathValue("externalCourseClassId"))
	return statusMessage{Successful: true}, err
}

// listBody is a list that is a bare array in JSON and a wrapped element in XML, since
// XML needs one root element.
type listBody struct {
	xml  any
	json any
}
