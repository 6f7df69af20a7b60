package reconcile_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/gateway"
	"github.com/tportal/tportal/internal/gateway/gwstore/gwstoretest"
	"github.com/tportal/tportal/internal/gateway/reconcile"
	"github.com/tportal/tportal/internal/gateway/reconcile/fakeportal"
	"github.com/tportal/tportal/tpclient"
)

func ptr[T any](v T) *T { return &v }

func fields(seats int) gateway.ClassFields {
	return gateway.ClassFields{
		Location: ptr("Oslo"), Seats: ptr(seats), Start: ptr("2027-05-10T09:00"), End: ptr("2027-05-11T15:30"),
		EnrollmentDeadline: ptr("2027-05-01"), CancellationDeadline: ptr("2027-05-05"),
		Amount: ptr("12500.00"), Currency: ptr("NOK"), AddressLine1: ptr("Karl Johans gate 1"),
		City: ptr("Oslo"), ZipCode: ptr("0154"), Country: ptr("NO"),
	}
}

// kinds summarises a report as "class kind[field]" lines, sorted as found.
func kinds(rep reconcile.Report) []string {
	var out []string
	for _, d := range rep.Drift {
		s := d.ClassID + " " + string(d.Kind)
		if d.Field != "" {
			s += "[" + d.Field + "]"
		}
		out = append(out, s)
	}
	return out
}

func writes(p *fakeportal.Portal) int {
	return p.Calls("addClass") + p.Calls("updateClass") + p.Calls("cancelClass") + p.Calls("restoreClass")
}

func TestDryRunReportsAndRepairFixes(t *testing.T) {
	gwstoretest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := gwstoretest.Open(t, dialect)
		sys := gateway.NewReference(db)
		sys.Now = func() time.Time { return time.Date(2027, 4, 1, 12, 0, 0, 0, time.UTC) }
		if _, err := sys.AddCourse(ctx, "BST", "Basic Safety Training"); err != nil {
			t.Fatal(err)
		}
		for id, seats := range map[string]int{"A": 12, "B": 5, "C": 3, "D": 4} {
			if _, err := sys.AddClass(ctx, "BST", id, fields(seats)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := sys.CancelClass(ctx, "BST", "C"); err != nil {
			t.Fatal(err)
		}
		portal := fakeportal.New(t)
		client := portal.Client(t)
		for _, id := range []string{"A", "B"} {
			c, err := sys.Class(ctx, "BST", id)
			if err != nil {
				t.Fatal(err)
			}
			if err := reconcile.Push(ctx, client, c); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := client.AddClass(ctx, "BST", tpclient.CourseClass{ExternalID: "X", Location: "Bergen", AvailableSeats: 1,
			StartDate: "2027-06-01", EndDate: "2027-06-01", EnrollmentDeadline: "2027-05-20", CancellationDeadline: "2027-05-20",
			Price: tpclient.Price{Currency: "NOK", Amount: "1"}}); err != nil {
			t.Fatal(err)
		}
		// Behind the gateway's back: a seat count and a location change, a cancellation.
		portal.SetField("BST", "A", "availableSeats", "7")
		portal.SetField("BST", "A", "location", "Trondheim")
		portal.SetField("BST", "B", "cancelled", "true")

		var progress strings.Builder
		before := writes(portal)
		rep, err := reconcile.Run(ctx, db, client, reconcile.Options{DryRun: true, Progress: &progress})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			"A seat count differs[availableSeats]", "A field differs[location]",
			"B cancelled on one side[cancelled]", "D missing at the portal", "X unknown to the gateway",
		}
		if got := kinds(rep); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("dry run drift:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if rep.Courses != 1 || rep.Classes != 4 {
			t.Errorf("report counts %d courses, %d classes; want 1, 4", rep.Courses, rep.Classes)
		}
		if n := writes(portal) - before; n != 0 {
			t.Errorf("a dry run made %d changing calls", n)
		}
		if seats, _ := portal.Class("BST", "A"); seats["availableSeats"] != "7" {
			t.Errorf("dry run changed the portal's seats to %q", seats["availableSeats"])
		}
		if !strings.Contains(progress.String(), "course 1/1, class 4/4") {
			t.Errorf("progress %q lacks the final line", progress.String())
		}
		if s := rep.Drift[0].String(); s != `BST/A: seat count differs: availableSeats gateway "12", portal "7"` {
			t.Errorf("drift line = %s", s)
		}

		rep, err = reconcile.Run(ctx, db, client, reconcile.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Failed != 0 {
			t.Fatalf("repair failed: %v", rep.Drift)
		}
		for _, d := range rep.Drift {
			if d.Kind != reconcile.UnknownToGateway && !d.Repaired {
				t.Errorf("not repaired: %s", d)
			}
		}
		rep, err = reconcile.Run(ctx, db, client, reconcile.Options{DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		if got := kinds(rep); len(got) != 1 || got[0] != "X unknown to the gateway" {
			t.Errorf("after repair, drift left: %q", got)
		}
		if a, _ := portal.Class("BST", "A"); a["availableSeats"] != "12" || a["location"] != "Oslo" {
			t.Errorf("portal's A after repair: seats %q, location %q", a["availableSeats"], a["location"])
		}
	})
}

func TestRunGoesOnWhenThePortalCannotListACourse(t *testing.T) {
	ctx := context.Background()
	db := gwstoretest.Open(t, "sqlite")
	sys := gateway.NewReference(db)
	if _, err := sys.AddCourse(ctx, "BST", "Basic Safety Training"); err != nil {
		t.Fatal(err)
	}
	portal := fakeportal.New(t)
	portal.FailNext("getCourseClasses", 1)
	rep, err := reconcile.Run(ctx, db, portal.Client(t), reconcile.Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 1 || len(rep.Drift) != 1 || rep.Drift[0].Err == nil {
		t.Errorf("report = %+v, want one failed course", rep)
	}
}

func TestCompareReadsThePortalsSpellings(t *testing.T) {
	c := gateway.Class{CourseID: "BST", ID: "A", Location: "Oslo", FreeSeats: 3, StartDate: "2027-05-10", StartTime: "09:00",
		EndDate: "2027-05-10", EndTime: "15:30", TimeZone: "Europe/Oslo", Price: gateway.Price{Currency: "NOK", Minor: 1250050}}
	tests := []struct {
		name   string
		change func(*tpclient.CourseClass)
		want   int
	}{
		{"same", func(*tpclient.CourseClass) {}, 0},
		{"times with seconds", func(p *tpclient.CourseClass) { p.StartTime, p.EndTime = "09:00:00", "15:30:00" }, 0},
		{"amount with a comma", func(p *tpclient.CourseClass) { p.Price.Amount = "12500,5" }, 0},
		{"currency in lower case", func(p *tpclient.CourseClass) { p.Price.Currency = "nok" }, 0},
		{"no time zone answered", func(p *tpclient.CourseClass) { p.TimeZone = "" }, 0},
		{"another time", func(p *tpclient.CourseClass) { p.StartTime = "10:00" }, 1},
		{"another price", func(p *tpclient.CourseClass) { p.Price.Amount = "1" }, 1},
		{"seats and city", func(p *tpclient.CourseClass) { p.AvailableSeats, p.Address.City = 9, "Bergen" }, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pc := reconcile.ToPortal(c)
			pc.SendScheduleInfoToParticipants = nil
			tt.change(&pc)
			if got := reconcile.Compare(c, pc, true); len(got) != tt.want {
				t.Errorf("Compare = %v, want %d drifts", got, tt.want)
			}
		})
	}
}

// FuzzCompareReadsAnyAnswer feeds Compare portal answers with arbitrary values in the
// fields it normalises: it never panics, a class compared with its own image has no
// drift, and a differing seat count is always reported.
func FuzzCompareReadsAnyAnswer(f *testing.F) {
	f.Add("12500,5", "nok", "09:00:00", 3, true)
	f.Add("", "", "", -1, false)
	f.Add("1e9", "XXX", "25:61", 0, true)
	f.Fuzz(func(t *testing.T, amount, currency, startTime string, seats int, cancelled bool) {
		c := gateway.Class{CourseID: "BST", ID: "A", Location: "Oslo", FreeSeats: 3, StartDate: "2027-05-10", StartTime: "09:00",
			EndDate: "2027-05-10", TimeZone: "Europe/Oslo", Price: gateway.Price{Currency: "NOK", Minor: 1250050}}
		if got := reconcile.Compare(c, reconcile.ToPortal(c), true); len(got) != 0 {
			t.Fatalf("a class differs from its own image: %v", got)
		}
		pc := reconcile.ToPortal(c)
		pc.Price.Amount, pc.Price.Currency, pc.StartTime, pc.AvailableSeats, pc.Cancelled = amount, currency, startTime, seats, cancelled
		drift := reconcile.Compare(c, pc, true)
		if seats != c.FreeSeats && !cancelled {
			found := false
			for _, d := range drift {
				found = found || d.Kind == reconcile.SeatsDiffer
			}
			if !found {
				t.Fatalf("seats %d against %d not reported: %v", seats, c.FreeSeats, drift)
			}
		}
		for _, d := range drift {
			_ = d.String()
		}
	})
}
