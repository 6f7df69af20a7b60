package portal

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tportal/tportal/internal/auth"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/errs"
)

// bookingList is the answer of GET /api/v1/bookings: one page, newest first, and the
// cursor of the next page ("" on the last).
type bookingList struct {
	Bookings   []bookingListItem `json:"bookings"`
	NextCursor string            `json:"nextCursor"`
}

// bookingListItem is a booking as the list shows it: the booking answer's fields
// without errorMessage and documents (GET /api/v1/bookings/{ref} lists those).
type bookingListItem struct {
	BookingReference string `json:"bookingReference"`
	Status           string `json:"status"`
	*bookingDTO
	Documents *struct{} `json:"documents,omitempty"` // hides bookingDTO's
}

// listBookings serves GET /api/v1/bookings with the filters state (repeated or
// comma-separated), class, course, createdFrom, createdTo, limit and cursor.
func (a *API) listBookings(r *http.Request, tok auth.Token) (any, error) {
	q, err := listQuery(r)
	if err != nil {
		return nil, err
	}
	q.CompanyID = tok.CompanyID // a company's token lists only its company's bookings
	page, err := a.Bookings.List(r.Context(), q)
	if err != nil {
		return nil, err
	}
	out := bookingList{Bookings: make([]bookingListItem, 0, len(page.Bookings)), NextCursor: page.NextCursor}
	for _, b := range page.Bookings {
		out.Bookings = append(out.Bookings, bookingListItem{BookingReference: b.Reference, Status: string(b.State), bookingDTO: toBookingDTO(b, nil)})
	}
	return out, nil
}

// listQuery reads the list's query parameters, naming every bad one.
func listQuery(r *http.Request) (booking.ListQuery, error) {
	v := r.URL.Query()
	var q booking.ListQuery
	var problems []string
	bad := func(field, msg string) { problems = append(problems, field+": "+msg) }
	for _, s := range v["state"] {
		for _, st := range strings.Split(s, ",") {
			if st = strings.ToUpper(strings.TrimSpace(st)); st != "" {
				q.States = append(q.States, booking.State(st))
			}
		}
	}
	id := func(name string, dst *int64) {
		s := strings.TrimSpace(v.Get(name))
		if s == "" {
			return
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			bad(name, strconv.Quote(s)+" is not a "+name+" id")
			return
		}
		*dst = n
	}
	id("class", &q.ClassID)
	id("course", &q.CourseID)
	instant := func(name string, dst *time.Time, endOfDay bool) {
		s := strings.TrimSpace(v.Get(name))
		if s == "" {
			return
		}
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			*dst = t
			return
		}
		day, err := time.Parse(time.DateOnly, s)
		if err != nil {
			bad(name, strconv.Quote(s)+" is neither a date (yyyy-MM-dd) nor a time (RFC 3339, 2026-11-27T10:00:00Z)")
			return
		}
		if endOfDay { // createdTo=2026-11-27 takes in that whole day
			day = day.AddDate(0, 0, 1)
		}
		*dst = day
	}
	instant("createdFrom", &q.CreatedFrom, false)
	instant("createdTo", &q.CreatedTo, true)
	if s := strings.TrimSpace(v.Get("limit")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			bad("limit", strconv.Quote(s)+" is not a number between 1 and "+strconv.Itoa(booking.MaxListLimit))
		}
		q.Limit = n
	}
	q.Cursor = strings.TrimSpace(v.Get("cursor"))
	if len(problems) > 0 {
		return q, errs.E(errs.Invalid, "%s", strings.Join(problems, "; "))
	}
	return q, nil
}

// noStore marks an answer that holds personal data as not to be cached.
func noStore(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}
