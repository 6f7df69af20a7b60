package gwjobs_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/gateway"
	"github.com/tportal/tportal/internal/gateway/gwstore/gwstoretest"
	"github.com/tportal/tportal/tpclient"
)

// TestWorkersAreWokenNotPolled: with workers that would poll once an hour, a hold's
// confirmation and the class's push still run at once after the reserve commits: the
// store's commit wakes them. (A retry, due later, waits for a poll, as it always has.)
func TestWorkersAreWokenNotPolled(t *testing.T) {
	gwstoretest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		opts := fast()
		opts.PollEvery = time.Hour
		w := newWorld(t, dialect, opts)
		if _, err := w.system.AddClass(ctx, "BST", "OSL-W40", classFields(3)); err != nil {
			t.Fatal(err)
		}
		var calls atomic.Int32
		firstCall := make(chan time.Time, 1)
		w.portal.Booking("TP-1", func() (int, tpclient.BookingInformation) {
			if calls.Add(1) == 1 {
				firstCall <- time.Now()
			}
			return http.StatusOK, tpclient.BookingInformation{FirstName: "Øyvind", LastName: "Ås", EnrollmentStatus: "NEW"}
		})
		w.start(t)
		time.Sleep(500 * time.Millisecond) // past the workers' first fetch at start
		reserved := time.Now()
		b := w.reserve(t, "TP-1", "Øyvind", "Ås")
		select {
		case at := <-firstCall:
			t.Logf("first confirmation call %s after the reserve", at.Sub(reserved).Round(time.Millisecond))
		case <-time.After(5 * time.Second):
			t.Fatal("no confirmation call within 5 s of the reserve: the workers were not woken by its commit")
		}
		eventually(t, 5*time.Second, "the booking is confirmed", func() bool { return w.status(t, b.Reference) == gateway.Confirmed })
		eventually(t, 5*time.Second, "the held seat reaches the portal", func() bool {
			return w.portalField("BST", "OSL-W40", "availableSeats") == "2"
		})
	})
}
