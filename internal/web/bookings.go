package web

import (
	"mime"
	"net/http"
	"net/url"
	"strconv"

	"github.com/tportal/tportal/internal/account"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
)

// bookingView is a booking with its class, as "our bookings" shows it.
type bookingView struct {
	booking.Booking
	Class     classView
	CanCancel bool // reserved and before the cancellation deadline
	Documents []booking.Document
}

func (p *Pages) bookingView(r *http.Request, b booking.Booking, courses map[int64]catalog.Course, providers map[int64]catalog.Provider) (bookingView, error) {
	c, err := p.cfg.Bookings.Store.ClassByID(r.Context(), b.ClassID)
	if err != nil {
		return bookingView{}, err
	}
	now := p.cfg.Now()
	v := bookingView{Booking: b, Class: newClassView(c, courses[c.CourseID], providers[c.ProviderID], now)}
	v.CanCancel = b.State == booking.Reserved && now.Before(c.CancellationClosesAt()) && providers[c.ProviderID].CancelURL != ""
	return v, nil
}

// bookingsPageSize is how many bookings "our bookings" shows at once.
const bookingsPageSize = 25

// stateOption is one choice of the status filter.
type stateOption struct {
	Value, Label string
	Selected     bool
}

// bookingsData is one page of "our bookings".
type bookingsData struct {
	Bookings []bookingView
	States   []stateOption
	State    string // the status filtered on; "" for all
	Older    string // the link to the next (older) page; "" on the last
	Paged    bool   // this is not the first page
}

// ourBookings lists the signed-in enroller's company's bookings, newest first, a page
// at a time (by the list's cursor, so a booking made meanwhile neither repeats nor
// skips one), optionally of one status.
func (p *Pages) ourBookings(w http.ResponseWriter, r *http.Request, a account.Account) {
	if a.Role != account.Enroller {
		p.fail(w, r, errs.E(errs.Forbidden, "staff accounts belong to no company, so they have no bookings of their own"))
		return
	}
	q := r.URL.Query()
	data := bookingsData{State: q.Get("state"), Paged: q.Get("after") != ""}
	lq := booking.ListQuery{CompanyID: a.CompanyID, Limit: bookingsPageSize, Cursor: q.Get("after")}
	if data.State != "" {
		lq.States = []booking.State{booking.State(data.State)}
	}
	for _, st := range booking.States {
		data.States = append(data.States, stateOption{Value: string(st), Label: stateLabel(st), Selected: string(st) == data.State})
	}
	list, err := p.cfg.Bookings.List(r.Context(), lq)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if list.NextCursor != "" {
		next := url.Values{"after": {list.NextCursor}}
		if data.State != "" {
			next.Set("state", data.State)
		}
		data.Older = "/bookings?" + next.Encode()
	}
	courses, providers, err := p.courseIndex(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	data.Bookings = make([]bookingView, 0, len(list.Bookings))
	for _, b := range list.Bookings {
		v, err := p.bookingView(r, b, courses, providers)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		data.Bookings = append(data.Bookings, v)
	}
	p.render(w, r, http.StatusOK, "bookings.html", "Our bookings", data)
}

// visibleBooking returns the booking in the path if the account may see it: its
// company's, or any for staff; another company's is not found.
func (p *Pages) visibleBooking(r *http.Request, a account.Account) (booking.Booking, error) {
	ref := r.PathValue("ref")
	if problem := catalog.TextProblem(ref, false); problem != "" {
		return booking.Booking{}, errs.E(errs.NotFound, "there is no booking %q", ref)
	}
	return p.cfg.Bookings.GetFor(r.Context(), ref, a.CompanyID)
}

// visibleBookingView is the booking of the request's path that a may see, and its view.
func (p *Pages) visibleBookingView(r *http.Request, a account.Account) (booking.Booking, bookingView, error) {
	b, err := p.visibleBooking(r, a)
	if err != nil {
		return b, bookingView{}, err
	}
	courses, providers, err := p.courseIndex(r)
	if err != nil {
		return b, bookingView{}, err
	}
	v, err := p.bookingView(r, b, courses, providers)
	return b, v, err
}

// bookingPage shows one booking: the confirmation after booking, its documents, and
// the cancel button while it may be cancelled.
func (p *Pages) bookingPage(w http.ResponseWriter, r *http.Request, a account.Account) {
	b, v, err := p.visibleBookingView(r, a)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if v.Documents, err = p.cfg.Bookings.Documents(r.Context(), b); err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "booking.html", "Booking "+b.Reference, v)
}

// cancel cancels through the provider's cancel URL and shows what it answered.
func (p *Pages) cancel(w http.ResponseWriter, r *http.Request, a account.Account) {
	ref := r.PathValue("ref")
	if _, err := p.visibleBooking(r, a); err != nil {
		p.fail(w, r, err)
		return
	}
	_, err := p.cfg.Bookings.CancelFor(r.Context(), ref, a.CompanyID)
	switch {
	case err == nil:
		p.flash(r, "Cancelled. The provider has released the seat.")
	case errs.CodeOf(err) == errs.Internal:
		p.fail(w, r, err)
		return
	default:
		p.flash(r, "Not cancelled: "+errs.MessageOf(err))
	}
	http.Redirect(w, r, "/bookings/"+url.PathEscape(ref), http.StatusSeeOther)
}

// document sends one of the booking's documents as a download.
func (p *Pages) document(w http.ResponseWriter, r *http.Request, a account.Account) {
	b, err := p.visibleBooking(r, a)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		p.fail(w, r, errs.E(errs.NotFound, "there is no document %q", r.PathValue("id")))
		return
	}
	d, err := p.cfg.Bookings.Document(r.Context(), b, id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", d.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(d.Content)))
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": d.FileName})
	if disposition == "" {
		disposition = "attachment"
	}
	h.Set("Content-Disposition", disposition)
	_, _ = w.Write(d.Content)
}
