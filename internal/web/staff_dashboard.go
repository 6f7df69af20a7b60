package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/tportal/tportal/internal/account"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/providercall"
)

// dashboardPeriod is how far back the dashboard looks.
const dashboardPeriod = 24 * time.Hour

// stateCount is one row of the dashboard's bookings by outcome.
type stateCount struct {
	State booking.State
	Count int
}

// dashboardView is the staff start page: the sections, and the last 24 hours.
type dashboardView struct {
	Sections  []staffSection
	Since     time.Time
	States    []stateCount
	Bookings  int // made in the period
	MostState int // the largest count, the scale of the bars
	Providers []providercall.ProviderTimes
	SlowestMs int64 // the largest p95, the scale of the bars
	Failures  []providercall.Call
}

// staffDashboard is the start page of portal staff: links to the staff pages, and
// what happened in the last 24 hours: bookings made by their outcome, each
// provider's answer times, and the calls that failed.
func (p *Pages) staffDashboard(w http.ResponseWriter, r *http.Request, _ account.Account) {
	ctx := r.Context()
	v := dashboardView{Sections: staffSections, Since: p.cfg.Now().Add(-dashboardPeriod).UTC()}
	counts, err := p.cfg.Staff.BookingStates(ctx, v.Since)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	for _, st := range booking.States {
		n := counts[st]
		v.States = append(v.States, stateCount{State: st, Count: n})
		v.Bookings += n
		v.MostState = max(v.MostState, n)
	}
	if v.Providers, err = p.cfg.Staff.CallTimes(ctx, v.Since); err != nil {
		p.fail(w, r, err)
		return
	}
	for _, t := range v.Providers {
		v.SlowestMs = max(v.SlowestMs, t.P95.Milliseconds())
	}
	if v.Failures, err = p.cfg.Staff.Calls(ctx, providercall.CallFilter{Outcome: providercall.OutcomeFailed, Since: v.Since, Limit: 20}); err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "staff_dashboard.html", "Staff", v)
}

// Template helpers of the staff pages.
func init() {
	funcs["ms"] = duration
	funcs["moment"] = func(t time.Time) string { return t.Format("2 Jan 2006 15:04:05 MST") }
	funcs["staffSections"] = func() []staffSection { return staffSections }
}

// duration says how long a call took, to the millisecond the journal keeps.
func duration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return "<1 ms"
	case d < 10*time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
}
