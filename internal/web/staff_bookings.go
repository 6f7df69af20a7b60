package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tportal/tportal/internal/account"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/providercall"
)

// StaffStore is what the staff pages read beyond the services: the booking search,
// the history of a booking, the call journal, the outbox list and the dashboard's
// sums. store.DB implements it.
type StaffStore interface {
	SearchBookings(ctx context.Context, q booking.Search) ([]booking.Found, error)
	// BookingEvents returns a booking's recorded state changes, oldest first.
	BookingEvents(ctx context.Context, bookingID int64) ([]booking.Event, error)
	// Notifications returns a booking's notifications, oldest first.
	Notifications(ctx context.Context, bookingID int64) ([]booking.Notification, error)
	// ListNotifications lists the outbox, newest first, for /staff/outbox.
	ListNotifications(ctx context.Context, f booking.NotificationFilter) ([]booking.ListedNotification, error)
	// NotificationKinds lists the kinds of message in the outbox, for its filter.
	NotificationKinds(ctx context.Context) ([]string, error)
	// Calls lists journal entries, newest first.
	Calls(ctx context.Context, f providercall.CallFilter) ([]providercall.Call, error)
	// Call returns one journal entry; errs.NotFound when there is none.
	Call(ctx context.Context, id int64) (providercall.Call, error)
	// BookingStates counts the bookings made since the time by their state now.
	BookingStates(ctx context.Context, since time.Time) (map[booking.State]int, error)
	// CallTimes sums the journal's calls since the time up per provider.
	CallTimes(ctx context.Context, since time.Time) ([]providercall.ProviderTimes, error)
}

// staffPageSize is how many rows a staff list shows per page.
const staffPageSize = 50

func init() {
	staffSections = append(staffSections,
		staffSection{Path: "/staff/bookings", Name: "Bookings", About: "find a booking by reference, person, company, course or status, and see its history"})
}

// option is one choice of a <select>.
type option struct {
	Value, Label string
	Selected     bool
}

// staffBookingsView is the search form, its results and the link to the next page.
type staffBookingsView struct {
	Form      url.Values
	Problem   string
	Providers []option
	Courses   []option
	States    []option
	Results   []booking.Found
	Next      string // the next page's URL; "" on the last
}

// staffBookings searches bookings by text, provider, course, status and the day they
// were made, newest first, a page at a time.
func (p *Pages) staffBookings(w http.ResponseWriter, r *http.Request, _ account.Account) {
	form := r.URL.Query()
	v := staffBookingsView{Form: form}
	courses, providers, err := p.courseIndex(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	v.Providers, v.Courses = providerOptions(providers, form.Get("provider")), courseOptions(courses, providers, form.Get("course"))
	for _, st := range booking.States {
		v.States = append(v.States, option{Value: string(st), Label: stateLabel(st), Selected: form.Get("status") == string(st)})
	}
	q, problems := p.bookingSearch(form)
	if len(problems) > 0 {
		v.Problem = strings.Join(problems, " ")
		p.render(w, r, http.StatusBadRequest, "staff_bookings.html", "Bookings", v)
		return
	}
	q.Limit = staffPageSize + 1
	found, err := p.cfg.Staff.SearchBookings(r.Context(), q)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if len(found) > staffPageSize {
		found = found[:staffPageSize]
		v.Next = nextPage(r, found[len(found)-1].ID)
	}
	v.Results = found
	p.render(w, r, http.StatusOK, "staff_bookings.html", "Bookings", v)
}

// bookingSearch reads the search form; problems say in words what is wrong with it.
func (p *Pages) bookingSearch(form url.Values) (q booking.Search, problems []string) {
	q.Text = strings.TrimSpace(form.Get("q"))
	q.ProviderID, problems = idParam(form, "provider", "Provider", problems)
	q.CourseID, problems = idParam(form, "course", "Course", problems)
	q.BeforeID, problems = idParam(form, "before", "Page", problems)
	if st := form.Get("status"); st != "" {
		if !slices.Contains(booking.States, booking.State(st)) {
			problems = append(problems, "Status: choose one from the list.")
		}
		q.States = []booking.State{booking.State(st)}
	}
	loc := p.zone()
	for _, d := range []struct {
		name, label string
		into        *time.Time
		next        bool
	}{{"from", "Made from", &q.CreatedFrom, false}, {"to", "Made until", &q.CreatedTo, true}} {
		raw := strings.TrimSpace(form.Get(d.name))
		if raw == "" {
			continue
		}
		day, err := time.ParseInLocation("2006-01-02", raw, loc)
		if err != nil {
			problems = append(problems, d.label+": "+strconv.Quote(raw)+" is not a date (yyyy-mm-dd).")
			continue
		}
		if d.next {
			day = day.AddDate(0, 0, 1) // "until" includes its day
		}
		*d.into = day
	}
	return q, problems
}

// zone is where the staff pages' days begin and end: the portal's default time zone.
func (p *Pages) zone() *time.Location {
	if p.cfg.Catalog != nil && p.cfg.Catalog.DefaultZone != "" {
		if loc, err := time.LoadLocation(p.cfg.Catalog.DefaultZone); err == nil {
			return loc
		}
	}
	return time.UTC
}

// idParam reads an optional positive id from the form.
func idParam(form url.Values, name, label string, problems []string) (int64, []string) {
	raw := strings.TrimSpace(form.Get(name))
	if raw == "" {
		return 0, problems
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, append(problems, label+": choose one from the list.")
	}
	return id, problems
}

// nextPage is the URL of the page after the one ending at lastID: the same filters,
// and before=lastID.
func nextPage(r *http.Request, lastID int64) string {
	q := r.URL.Query()
	q.Set("before", strconv.FormatInt(lastID, 10))
	return r.URL.Path + "?" + q.Encode()
}

func providerOptions(providers map[int64]catalog.Provider, selected string) []option {
	out := make([]option, 0, len(providers))
	for _, pr := range providers {
		id := strconv.FormatInt(pr.ID, 10)
		out = append(out, option{Value: id, Label: pr.Name, Selected: id == selected})
	}
	slices.SortFunc(out, func(a, b option) int { return strings.Compare(a.Label, b.Label) })
	return out
}

func courseOptions(courses map[int64]catalog.Course, providers map[int64]catalog.Provider, selected string) []option {
	out := make([]option, 0, len(courses))
	for _, c := range courses {
		id := strconv.FormatInt(c.ID, 10)
		out = append(out, option{Value: id, Label: c.Name + " (" + providers[c.ProviderID].Name + ")", Selected: id == selected})
	}
	slices.SortFunc(out, func(a, b option) int { return strings.Compare(a.Label, b.Label) })
	return out
}

// historyEntry is one line of a booking's history.
type historyEntry struct {
	At     time.Time
	What   string
	Detail string
	Link   string // a journal entry, a document
	Bad    bool   // a failure or refusal, shown as such
}

// staffBookingView is a booking with everything staff need to know about it.
type staffBookingView struct {
	bookingView
	CourseExternalID string
	History          []historyEntry
	Calls            []providercall.Call
}

// staffBooking shows one booking, any company's, with its history: made, the reserve
// call and its answer, the provider's status updates, documents, cancel and clean-up
// calls, and the notifications sent.
func (p *Pages) staffBooking(w http.ResponseWriter, r *http.Request, a account.Account) {
	b, bv, err := p.visibleBookingView(r, a)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	v := staffBookingView{bookingView: bv, CourseExternalID: b.CourseExternalID}
	ctx := r.Context()
	if v.Documents, err = p.cfg.Bookings.Documents(ctx, b); err != nil {
		p.fail(w, r, err)
		return
	}
	events, err := p.cfg.Staff.BookingEvents(ctx, b.ID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	calls, err := p.cfg.Staff.Calls(ctx, providercall.CallFilter{BookingReference: b.Reference, Limit: 200})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	notes, err := p.cfg.Staff.Notifications(ctx, b.ID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	v.Calls = calls
	v.History = history(b, events, calls, v.Documents, notes)
	p.render(w, r, http.StatusOK, "staff_booking.html", "Booking "+b.Reference, v)
}

// history merges what the records say about a booking into one list by time. At
// equal times (the records keep milliseconds) the order is the order of the records'
// kinds here: made, calls and changes, documents, notifications, which is the order
// they happen in.
func history(b booking.Booking, events []booking.Event, calls []providercall.Call, docs []booking.Document, notes []booking.Notification) []historyEntry {
	who := strings.TrimSpace(b.Enroller.FirstName + " " + b.Enroller.LastName)
	if b.Company != "" {
		who += " (" + b.Company + ")"
	}
	h := []historyEntry{{At: b.CreatedAt, What: "Booking made", Detail: "by " + who + " for " +
		strings.TrimSpace(b.Student.FirstName+" "+b.Student.LastName)}}
	calls = slices.Clone(calls)
	slices.Reverse(calls) // the journal lists newest first
	// Calls and changes interleave; within one millisecond a call comes before the
	// change it caused (the reserve call before the end of PENDING, a cancel call
	// before CANCELLED or the end of a clean-up), and after any other.
	for len(calls) > 0 || len(events) > 0 {
		callFirst := len(events) == 0
		if len(calls) > 0 && len(events) > 0 {
			c, ev := calls[0], events[0]
			callFirst = c.At.Before(ev.At) || c.At.Equal(ev.At) && causes(c, ev)
		}
		if callFirst {
			c := calls[0]
			calls = calls[1:]
			h = append(h, historyEntry{At: c.At, What: callTitle(c), Detail: callSummary(c),
				Link: "/staff/calls/" + strconv.FormatInt(c.ID, 10), Bad: c.Outcome == providercall.OutcomeFailed || !c.Success})
			continue
		}
		h = append(h, eventEntry(events[0]))
		events = events[1:]
	}
	for _, d := range docs {
		h = append(h, historyEntry{At: d.UploadedAt, What: "Document uploaded by the provider",
			Detail: d.FileName + " (" + d.Type + ", " + strconv.FormatInt(d.Size, 10) + " bytes)",
			Link:   "/bookings/" + url.PathEscape(b.Reference) + "/documents/" + strconv.FormatInt(d.ID, 10)})
	}
	for _, n := range notes {
		sent := "not sent yet"
		if n.SentAt != nil {
			sent = "sent " + n.SentAt.Format("2 Jan 2006 15:04 MST")
		}
		h = append(h, historyEntry{At: n.CreatedAt, What: "Notification " + n.Kind, Detail: "to " + n.To + ": " + n.Subject + " (" + sent + ")",
			Link: "/staff/outbox/" + strconv.FormatInt(n.ID, 10)})
	}
	slices.SortStableFunc(h, func(a, b historyEntry) int { return a.At.Compare(b.At) })
	return h
}

// causes reports whether the change ev may be the result of the call c.
func causes(c providercall.Call, ev booking.Event) bool {
	if c.Kind == providercall.KindReserve {
		return ev.From == booking.Pending
	}
	return ev.To == booking.Cancelled || ev.From == booking.Abandoned
}

// callTitle names a journal entry in a booking's history.
func callTitle(c providercall.Call) string {
	if c.Kind == providercall.KindCancel {
		return "Cancel call to " + c.ProviderName
	}
	return "Reserve call to " + c.ProviderName
}

// callSummary says in a few words what a call got.
func callSummary(c providercall.Call) string {
	took := duration(c.Latency)
	switch {
	case c.Outcome == providercall.OutcomeFailed:
		return "no usable answer after " + took + ": " + c.Error
	case c.Success && c.Kind == providercall.KindCancel:
		return "cancelled, answered in " + took
	case c.Success:
		return "reserved, answered in " + took
	}
	return "refused, answered in " + took
}

// eventEntry says a recorded change in words.
func eventEntry(ev booking.Event) historyEntry {
	e := historyEntry{At: ev.At}
	switch {
	case ev.From == ev.To && ev.To == booking.Abandoned && !ev.CleanupPending:
		e.What = "Clean-up finished"
	case ev.From == ev.To:
		e.What = "Message changed"
	case ev.From == booking.Pending && ev.To == booking.Reserved:
		e.What = "Reserved by the provider"
	case ev.From == booking.Pending && ev.To == booking.Rejected:
		e.What, e.Bad = "Refused by the provider", true
	case ev.To == booking.Abandoned:
		e.What, e.Bad = "Given up: the provider gave no usable answer", true
	case ev.To == booking.Cancelled:
		e.What = "Cancelled"
	default:
		e.What = "Status set by the provider: " + stateLabel(ev.To)
	}
	var detail []string
	detail = append(detail, string(ev.From)+" → "+string(ev.To))
	if ev.CompletionDate != "" && ev.To == booking.Completed {
		detail = append(detail, "completed on "+ev.CompletionDate)
	}
	if ev.Message != "" {
		detail = append(detail, "message: "+ev.Message)
	}
	if ev.CleanupPending {
		detail = append(detail, "clean-up pending")
	}
	e.Detail = strings.Join(detail, "; ")
	return e
}
