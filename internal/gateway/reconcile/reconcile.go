// Package reconcile compares the provider gateway's catalogue with what the portal
// shows (getCourseClasses, course by course) and repairs the differences by pushing
// the gateway's state, which is the truth for the provider's own classes. It also
// holds Push, the one way a class reaches the portal, which the catalogue-push job
// uses too.
package reconcile

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tportal/tportal/internal/gateway"
	"github.com/tportal/tportal/tpclient"
)

// Catalogue is where the gateway's courses and classes come from; gateway.Store
// (package gwstore) implements it.
type Catalogue interface {
	Courses(ctx context.Context) ([]gateway.Course, error)
	Classes(ctx context.Context, courseID string) ([]gateway.Class, error)
}

// Kind names a kind of drift.
type Kind string

// The kinds of drift.
const (
	// MissingAtPortal: a published class of the gateway that the portal does not show.
	MissingAtPortal Kind = "missing at the portal"
	// UnknownToGateway: a class the portal shows that the gateway does not have. It is
	// reported, never changed: only staff know whether it should be there.
	UnknownToGateway Kind = "unknown to the gateway"
	// CancelledDiffers: cancelled on one side and published on the other.
	CancelledDiffers Kind = "cancelled on one side"
	// SeatsDiffer: the portal's availableSeats is not the gateway's free seats.
	SeatsDiffer Kind = "seat count differs"
	// FieldDiffers: another field differs.
	FieldDiffers Kind = "field differs"
)

// Drift is one difference between the gateway's class and the portal's.
type Drift struct {
	CourseID, ClassID string
	Kind              Kind
	// Field names the differing field (FieldDiffers, SeatsDiffer, CancelledDiffers).
	Field string
	// Gateway and Portal are the two values, as text.
	Gateway, Portal string
	// Repaired is set when a repairing run pushed the gateway's state.
	Repaired bool
	// Err is why a repair failed.
	Err error
}

// String describes the drift on one line, for people.
func (d Drift) String() string {
	s := fmt.Sprintf("%s/%s: %s", d.CourseID, d.ClassID, d.Kind)
	if d.Field != "" {
		s += fmt.Sprintf(": %s gateway %q, portal %q", d.Field, d.Gateway, d.Portal)
	}
	switch {
	case d.Err != nil:
		s += " (repair failed: " + d.Err.Error() + ")"
	case d.Repaired:
		s += " (repaired)"
	}
	return s
}

// Options tune a run.
type Options struct {
	// DryRun reports drift and changes nothing.
	DryRun bool
	// Progress receives a line now and then on long runs ("course 3/12, class
	// 140/900"); nil for none.
	Progress io.Writer
	// ProgressEvery is the least time between progress lines; default 1 s. The first
	// and the last line are always written.
	ProgressEvery time.Duration
}

// Report is the outcome of a run.
type Report struct {
	Courses, Classes int
	Drift            []Drift
	// Failed counts repairs that failed, and courses the portal could not list.
	Failed int
}

// Run compares every class of every course of the gateway with the portal's and,
// unless opts.DryRun, pushes the gateway's state of every class that drifted. A course
// the portal cannot list is counted in Failed and the run goes on.
func Run(ctx context.Context, cat Catalogue, p Portal, opts Options) (Report, error) {
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = time.Second
	}
	courses, err := cat.Courses(ctx)
	if err != nil {
		return Report{}, err
	}
	all := make([][]gateway.Class, len(courses))
	var rep Report
	total := 0
	for i, c := range courses {
		if all[i], err = cat.Classes(ctx, c.ExternalID); err != nil {
			return Report{}, err
		}
		total += len(all[i])
	}
	rep.Courses = len(courses)
	prog := progress{w: opts.Progress, every: opts.ProgressEvery, courses: len(courses), classes: total}
	for i, course := range courses {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		prog.show(i+1, rep.Classes, false)
		atPortal, err := p.CourseClasses(ctx, course.ExternalID)
		if err != nil {
			rep.Failed++
			rep.Drift = append(rep.Drift, Drift{CourseID: course.ExternalID, Kind: "course not listed by the portal", Err: err})
			rep.Classes += len(all[i])
			continue
		}
		byID := make(map[string]tpclient.CourseClass, len(atPortal))
		for _, pc := range atPortal {
			byID[pc.ExternalID] = pc
		}
		for _, gc := range all[i] {
			rep.Classes++
			prog.show(i+1, rep.Classes, false)
			pc, found := byID[gc.ID]
			delete(byID, gc.ID)
			drift := Compare(gc, pc, found)
			if len(drift) == 0 {
				continue
			}
			if !opts.DryRun {
				err := Push(ctx, p, gc)
				for j := range drift {
					drift[j].Repaired, drift[j].Err = err == nil, err
				}
				if err != nil {
					rep.Failed++
				}
			}
			rep.Drift = append(rep.Drift, drift...)
		}
		for _, pc := range atPortal {
			if _, left := byID[pc.ExternalID]; left && !pc.Cancelled {
				rep.Drift = append(rep.Drift, Drift{CourseID: course.ExternalID, ClassID: pc.ExternalID, Kind: UnknownToGateway})
			}
		}
	}
	prog.show(len(courses), rep.Classes, true)
	return rep, nil
}

// Compare lists how the portal's class pc (found false: the portal has none) differs
// from the gateway's class gc.
func Compare(gc gateway.Class, pc tpclient.CourseClass, found bool) []Drift {
	d := func(kind Kind, field, gv, pv string) Drift {
		return Drift{CourseID: gc.CourseID, ClassID: gc.ID, Kind: kind, Field: field, Gateway: gv, Portal: pv}
	}
	switch {
	case !found && gc.Cancelled:
		return nil // cancelled here, deleted (or never shown) there: nothing to repair
	case !found:
		return []Drift{d(MissingAtPortal, "", "", "")}
	case gc.Cancelled != pc.Cancelled:
		return []Drift{d(CancelledDiffers, "cancelled", strconv.FormatBool(gc.Cancelled), strconv.FormatBool(pc.Cancelled))}
	case gc.Cancelled:
		return nil // both cancelled: the portal keeps the class only until its sweep
	}
	var out []Drift
	if gc.FreeSeats != pc.AvailableSeats {
		out = append(out, d(SeatsDiffer, "availableSeats", strconv.Itoa(gc.FreeSeats), strconv.Itoa(pc.AvailableSeats)))
	}
	want := ToPortal(gc)
	fields := []struct{ name, gateway, portal string }{
		{"location", want.Location, pc.Location},
		{"startDate", want.StartDate, pc.StartDate},
		{"startTime", clock(want.StartTime), clock(pc.StartTime)},
		{"endDate", want.EndDate, pc.EndDate},
		{"endTime", clock(want.EndTime), clock(pc.EndTime)},
		{"enrollmentDeadline", want.EnrollmentDeadline, pc.EnrollmentDeadline},
		{"cancellationDeadline", want.CancellationDeadline, pc.CancellationDeadline},
		{"address.addressLine1", want.Address.AddressLine1, pc.Address.AddressLine1},
		{"address.addressLine2", want.Address.AddressLine2, pc.Address.AddressLine2},
		{"address.city", want.Address.City, pc.Address.City},
		{"address.zipCode", want.Address.ZipCode, pc.Address.ZipCode},
		{"address.country", want.Address.Country, pc.Address.Country},
		{"price.currency", want.Price.Currency, strings.ToUpper(pc.Price.Currency)},
		{"price.amount", want.Price.Amount, amount(pc.Price.Amount, pc.Price.Currency)},
	}
	if pc.TimeZone != "" { // an extension the public service does not answer
		fields = append(fields, struct{ name, gateway, portal string }{"timeZone", want.TimeZone, pc.TimeZone})
	}
	if pc.SendScheduleInfoToParticipants != nil {
		fields = append(fields, struct{ name, gateway, portal string }{"sendScheduleInfoToParticipants",
			strconv.FormatBool(gc.SendScheduleInfo), strconv.FormatBool(*pc.SendScheduleInfoToParticipants)})
	}
	for _, f := range fields {
		if f.gateway != f.portal {
			out = append(out, d(FieldDiffers, f.name, f.gateway, f.portal))
		}
	}
	return out
}

// clock reads "09:00" and "09:00:00" alike.
func clock(s string) string {
	if len(s) == len("15:04:05") && strings.HasSuffix(s, ":00") {
		return s[:len("15:04")]
	}
	return s
}

// amount normalises the portal's amount ("12500", "12500.5", "12500,50") to the
// gateway's form ("12500.00"); what it cannot read is compared as sent.
func amount(a, currency string) string {
	p, err := gateway.ParsePrice(a, currency)
	if err != nil {
		return a
	}
	return p.Amount()
}

// progress writes "course 3/12, class 140/900" at most once per interval.
type progress struct {
	w                io.Writer
	every            time.Duration
	courses, classes int
	last             time.Time
	written          bool
}

func (p *progress) show(course, class int, final bool) {
	if p.w == nil || (p.written && !final && time.Since(p.last) < p.every) {
		return
	}
	p.last, p.written = time.Now(), true
	fmt.Fprintf(p.w, "course %d/%d, class %d/%d\n", course, p.courses, class, p.classes)
}
