package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/gateway"
	"github.com/tportal/tportal/internal/gateway/gwjobs"
	"github.com/tportal/tportal/internal/gateway/gwstore"
	"github.com/tportal/tportal/internal/gateway/gwstore/gwstoretest"
	"github.com/tportal/tportal/internal/gateway/reconcile/fakeportal"
	"github.com/tportal/tportal/tpclient"
)

// TestAttendanceWaitsInTheQueueWhileServeIsDown records attendance with the command
// while no gateway runs, finds the report queued in the gateway's database, and sees
// a runner deliver it to the portal later.
func TestAttendanceWaitsInTheQueueWhileServeIsDown(t *testing.T) {
	gwstoretest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		dbURL := gwstoretest.URL(t, dialect)
		for _, args := range [][]string{{"course", "add", "--external-id", "BST", "--name", "Basic Safety Training"}, classAdd} {
			if out, err := provider(t, dbURL, args...); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
		}
		db, err := gwstore.Open(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		sys := gateway.NewReference(db)
		sys.Now = func() time.Time { return time.Date(2027, 4, 1, 12, 0, 0, 0, time.UTC) }
		b, err := sys.Reserve(ctx, gateway.ReserveRequest{CourseID: "BST", ClassID: "OSL-W40", PortalReference: "TP-9",
			Student: gateway.Person{FirstName: "Kari", LastName: "Nordmann"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sys.Confirm(ctx, b.Reference); err != nil {
			t.Fatal(err)
		}

		out, err := provider(t, dbURL, "attendance", "--booking", b.Reference, "--status", "NO_SHOW")
		if err != nil || !strings.Contains(out, "is NO_SHOW") {
			t.Fatalf("attendance: %v %s", err, out)
		}
		var state string
		jobs := "river_job"
		if dialect == "postgres" {
			jobs = gwjobs.PostgresSchema + ".river_job"
		}
		if err := db.SQL().QueryRowContext(ctx, `SELECT state FROM `+jobs+` WHERE kind = 'gateway.report_outcome'`).Scan(&state); err != nil || state != "available" {
			t.Fatalf("queued report: state %q, %v; want one available job", state, err)
		}

		portal := fakeportal.New(t)
		portal.Booking("TP-9", func() (int, tpclient.BookingInformation) { return http.StatusOK, tpclient.BookingInformation{} })
		runner, err := gwjobs.New(ctx, db.SQL(), db.Dialect(), gwjobs.Deps{Store: db, System: sys, Portal: portal.Client(t)},
			gwjobs.Options{PollEvery: 50 * time.Millisecond, PushDelay: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := runner.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer func() {
			stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			runner.Stop(stopCtx) //nolint:errcheck // end of the test
		}()
		poll(t, 30*time.Second, "the queued NO_SHOW reaches the portal", func() bool {
			got := portal.Statuses("TP-9")
			return len(got) == 1 && got[0] == "NO_SHOW"
		})
	})
}

func TestReconcileCommandNeedsThePortal(t *testing.T) {
	dbURL := gwstoretest.URL(t, "sqlite")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"reconcile", "--dry-run"}, "--portal, --username, --password required"},
		{[]string{"reconcile", "--portal", "ftp://x", "--username", "u", "--password", "p"}, `--portal "ftp://x"`},
	}
	for _, tt := range tests {
		out, err := provider(t, dbURL, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v %s, want an error with %q", tt.args, err, out, tt.want)
		}
	}
}
