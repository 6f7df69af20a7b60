// Package fakeportal is a small in-memory stand-in for the portal's course-provider
// API v1, served by httptest, for the tests of the gateway's background work: it
// keeps classes as the API sends them, answers getBookingInformation as a test
// scripts it, and records status reports and uploads. The end-to-end test in
// cmd/tportal runs the real portal instead.
package fakeportal

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tportal/tportal/tpclient"
)

// Portal is the fake. Its fields are guarded by its lock; use its methods.
type Portal struct {
	URL string

	mu       sync.Mutex
	classes  map[string]map[string]string // "course/class" -> fields as sent, dotted names
	bookings map[string]func() (int, tpclient.BookingInformation)
	calls    map[string]int
	failNext map[string]int
	statuses map[string][]string // booking -> "STATUS date" in order
	uploads  map[string][][]byte
}

// New starts a fake portal, closed when the test ends.
func New(t testing.TB) *Portal {
	p := &Portal{
		classes: map[string]map[string]string{}, bookings: map[string]func() (int, tpclient.BookingInformation){},
		calls: map[string]int{}, failNext: map[string]int{}, statuses: map[string][]string{}, uploads: map[string][][]byte{},
	}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(srv.Close)
	p.URL = srv.URL + "/api/courseprovider/rest/"
	return p
}

// Client returns an SDK client for the fake, without retries of its own, so that
// the job's retries are what a test sees.
func (p *Portal) Client(t testing.TB) *tpclient.Client {
	c, err := tpclient.New(p.URL, "provider", "secret", tpclient.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Calls returns how often the method (addClass, updateClass, cancelClass,
// restoreClass, getCourseClasses, getBookingInformation, updateBookingStatus,
// uploadDocumentation) was called.
func (p *Portal) Calls(method string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[method]
}

// FailNext makes the next n calls of the method answer 503.
func (p *Portal) FailNext(method string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failNext[method] = n
}

// Class returns the portal's copy of a class, as the API lists it.
func (p *Portal) Class(course, class string) (map[string]string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.classes[course+"/"+class]
	if !ok {
		return nil, false
	}
	out := make(map[string]string, len(c))
	for k, v := range c {
		out[k] = v
	}
	return out, true
}

// SetField changes a field of the portal's copy behind the gateway's back.
func (p *Portal) SetField(course, class, field, value string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.classes[course+"/"+class][field] = value
}

// Booking scripts the answer to getBookingInformation for ref: fn gives the status
// (200, 404, 410, …) and, for 200, the booking.
func (p *Portal) Booking(ref string, fn func() (int, tpclient.BookingInformation)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bookings[ref] = fn
}

// Statuses returns the statuses reported for a booking, "STATUS" or "STATUS date".
func (p *Portal) Statuses(ref string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.statuses[ref]...)
}

// Uploads returns the files uploaded for a booking.
func (p *Portal) Uploads(ref string) [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([][]byte(nil), p.uploads[ref]...)
}

func (p *Portal) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(32 << 20); err != nil && err != http.ErrNotMultipart {
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	path := strings.Split(strings.TrimPrefix(r.URL.Path, "/api/courseprovider/rest/v1/"), "/")
	method := name(path)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls[method]++
	if p.failNext[method] > 0 {
		p.failNext[method]--
		fail(w, http.StatusServiceUnavailable, "try again later")
		return
	}
	switch method {
	case "getCourseClasses":
		var list []map[string]string
		for key, c := range p.classes {
			if strings.HasPrefix(key, path[2]+"/") {
				list = append(list, c)
			}
		}
		write(w, list)
	case "addClass":
		key := path[2] + "/" + r.FormValue("externalId")
		if _, ok := p.classes[key]; ok {
			fail(w, http.StatusConflict, "externalId: the course has a class "+r.FormValue("externalId"))
			return
		}
		c := map[string]string{"courseExternalId": path[2], "cancelled": "false"}
		p.apply(c, r)
		p.classes[key] = c
		write(w, c)
	case "updateClass":
		c, ok := p.classes[path[2]+"/"+r.FormValue("externalId")]
		switch {
		case !ok:
			fail(w, http.StatusNotFound, "unknown class")
		case c["cancelled"] == "true":
			fail(w, http.StatusConflict, "the class is cancelled; restore it first")
		default:
			p.apply(c, r)
			write(w, c)
		}
	case "cancelClass", "restoreClass":
		c, ok := p.classes[path[2]+"/"+path[5]]
		want := method == "restoreClass"
		switch {
		case !ok:
			fail(w, http.StatusNotFound, "unknown class")
		case (c["cancelled"] == "true") != want:
			fail(w, http.StatusConflict, "already so")
		default:
			c["cancelled"] = fmt.Sprint(!want)
			write(w, map[string]any{"successful": true})
		}
	case "getBookingInformation":
		fn, ok := p.bookings[path[2]]
		if !ok {
			fail(w, http.StatusNotFound, "unknown booking")
			return
		}
		status, info := fn()
		if status != http.StatusOK {
			fail(w, status, "booking "+path[2])
			return
		}
		write(w, map[string]any{"bookingReference": info.BookingReference, "firstName": info.FirstName,
			"lastName": info.LastName, "email": info.Email, "phone": info.Phone, "birthDate": info.BirthDate,
			"company": info.Company, "enrollmentStatus": info.EnrollmentStatus,
			"enroller": map[string]string{"firstName": info.Enroller.FirstName, "lastName": info.Enroller.LastName,
				"email": info.Enroller.Email, "phone": info.Enroller.Phone}})
	case "updateBookingStatus":
		p.statuses[path[2]] = append(p.statuses[path[2]], strings.TrimSpace(r.FormValue("newStatus")+" "+r.FormValue("completionDate")))
		write(w, map[string]any{"successful": true})
	case "uploadDocumentation":
		f, _, err := r.FormFile("file")
		if err != nil {
			fail(w, http.StatusBadRequest, "file: required")
			return
		}
		body, _ := io.ReadAll(f)
		p.uploads[path[2]] = append(p.uploads[path[2]], body)
		write(w, map[string]any{"successful": true, "documentId": fmt.Sprint(len(p.uploads[path[2]]))})
	default:
		fail(w, http.StatusNotFound, "no such method")
	}
}

// apply copies the class fields of a request, as the portal stores them.
func (p *Portal) apply(c map[string]string, r *http.Request) {
	for k, vs := range r.Form {
		switch k {
		case "username", "password", "erollmentDeadline":
		default:
			c[k] = vs[0]
		}
	}
}

func name(path []string) string {
	switch {
	case len(path) >= 4 && path[0] == "courses" && path[3] == "courseClasses" && len(path) == 4:
		return "getCourseClasses"
	case len(path) >= 5 && path[0] == "courses":
		return map[string]string{"add": "addClass", "update": "updateClass", "cancel": "cancelClass", "restore": "restoreClass"}[path[4]]
	case len(path) == 3 && path[0] == "booking":
		return map[string]string{"get": "getBookingInformation", "update": "updateBookingStatus", "uploadDocumentation": "uploadDocumentation"}[path[1]]
	}
	return "unknown"
}

func write(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v) //nolint:errcheck // a test server
}

func fail(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errorMessage": msg, "successful": false}) //nolint:errcheck // a test server
}
