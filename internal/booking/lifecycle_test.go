package booking_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/mail"
	"github.com/tportal/tportal/internal/store/storetest"
)

// succeeding answers every reserve call successfully with a fresh provider reference.
func succeeding() http.HandlerFunc {
	var n atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		jsonAnswer(fmt.Sprintf(`{"successful":true,"bookingReference":"P-%d"}`, n.Add(1)))(w, r)
	}
}

func mustBook(t *testing.T, e *env, classID int64, student string) booking.Booking {
	t.Helper()
	b, err := e.svc.Book(context.Background(), request(classID, student))
	if err != nil || b.State != booking.Reserved {
		t.Fatalf("Book = %s, %v; want RESERVED", b.State, err)
	}
	return b
}

func TestCancel(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		e := newEnv(t, dialect, callTimeout)
		fp := newFakeProvider(t)
		fp.onReserve(succeeding())
		p, co := e.addProvider(t, "acme", fp)
		class := e.addClass(t, p, co, "C1", 5)

		t.Run("cancelled", func(t *testing.T) {
			fp.onCancel(jsonAnswer(`{"cancelled":true,"errorMessage":""}`))
			b := mustBook(t, e, class.ID, "Ola")
			if got := e.seats(t, class.ID); got != 4 {
				t.Fatalf("availableSeats after booking = %d, want 4", got)
			}
			before := len(fp.cancelCalls())
			c, err := e.svc.Cancel(ctx, b.Reference)
			if err != nil {
				t.Fatalf("Cancel: %v", err)
			}
			if c.State != booking.Cancelled || e.get(t, b.Reference).State != booking.Cancelled {
				t.Errorf("state after cancel = %s (stored %s), want CANCELLED", c.State, e.get(t, b.Reference).State)
			}
			if got := e.seats(t, class.ID); got != 5 {
				t.Errorf("availableSeats after cancel = %d, want 5 (seat given back)", got)
			}
			calls := fp.cancelCalls()[before:]
			if len(calls) != 1 {
				t.Fatalf("provider saw %d cancel calls, want 1", len(calls))
			}
			if got := calls[0].Get("bookingReference"); got != b.ProviderReference || got == "" {
				t.Errorf("cancel bookingReference = %q, want the provider's %q", got, b.ProviderReference)
			}
			if got := calls[0].Get("trainingportalBookingReference"); got != b.Reference {
				t.Errorf("cancel trainingportalBookingReference = %q, want the portal's %q", got, b.Reference)
			}

			// Twice is fine, and gives no second seat back.
			c, err = e.svc.Cancel(ctx, b.Reference)
			if err != nil || c.State != booking.Cancelled {
				t.Errorf("second Cancel = %s, %v; want CANCELLED, nil", c.State, err)
			}
			if got := e.seats(t, class.ID); got != 5 {
				t.Errorf("availableSeats after second cancel = %d, want 5", got)
			}
		})

		t.Run("provider refuses", func(t *testing.T) {
			fp.onCancel(jsonAnswer(`{"cancelled":false,"errorMessage":"Too late"}`))
			b := mustBook(t, e, class.ID, "Per")
			seats := e.seats(t, class.ID)
			_, err := e.svc.Cancel(ctx, b.Reference)
			if errs.CodeOf(err) != errs.Conflict || !strings.Contains(errs.MessageOf(err), "Too late") {
				t.Errorf("Cancel = %v (code %s), want Conflict showing %q", err, errs.CodeOf(err), "Too late")
			}
			if got := e.get(t, b.Reference); got.State != booking.Reserved {
				t.Errorf("state after refused cancel = %s, want RESERVED", got.State)
			}
			if got := e.seats(t, class.ID); got != seats {
				t.Errorf("availableSeats after refused cancel = %d, want %d", got, seats)
			}
		})

		t.Run("provider fails", func(t *testing.T) {
			fp.onCancel(answer(http.StatusInternalServerError, "text/plain", "oops"))
			b := mustBook(t, e, class.ID, "Pål")
			seats := e.seats(t, class.ID)
			_, err := e.svc.Cancel(ctx, b.Reference)
			if errs.CodeOf(err) != errs.BadGateway || !strings.Contains(errs.MessageOf(err), "HTTP 500") {
				t.Errorf("Cancel = %v (code %s), want BadGateway naming HTTP 500", err, errs.CodeOf(err))
			}
			if got := e.get(t, b.Reference); got.State != booking.Reserved {
				t.Errorf("state after failed cancel = %s, want RESERVED", got.State)
			}
			if got := e.seats(t, class.ID); got != seats {
				t.Errorf("availableSeats after failed cancel = %d, want %d", got, seats)
			}
		})

		t.Run("after the cancellation deadline", func(t *testing.T) {
			fp.onCancel(jsonAnswer(`{"cancelled":true}`))
			early := mustBook(t, e, class.ID, "Espen")
			late := mustBook(t, e, class.ID, "Askeladd")
			defer e.clock.Set(0)

			// The last minute of the deadline day (in the class's zone) still cancels.
			e.clock.Set(time.Until(class.CancellationClosesAt()) - time.Minute)
			if c, err := e.svc.Cancel(ctx, early.Reference); err != nil || c.State != booking.Cancelled {
				t.Errorf("Cancel in the last minute of the deadline day = %s, %v; want CANCELLED", c.State, err)
			}

			// The next day, it does not, and the provider is not asked.
			e.clock.Set(time.Until(class.CancellationClosesAt()) + time.Minute)
			before := len(fp.cancelCalls())
			seats := e.seats(t, class.ID)
			_, err := e.svc.Cancel(ctx, late.Reference)
			if errs.CodeOf(err) != errs.Conflict || !strings.Contains(errs.MessageOf(err), "deadline") {
				t.Errorf("Cancel after the deadline = %v (code %s), want Conflict naming the deadline", err, errs.CodeOf(err))
			}
			if n := len(fp.cancelCalls()) - before; n != 0 {
				t.Errorf("provider saw %d cancel calls after the deadline, want 0", n)
			}
			if got := e.get(t, late.Reference); got.State != booking.Reserved {
				t.Errorf("state after late cancel = %s, want RESERVED", got.State)
			}
			if got := e.seats(t, class.ID); got != seats {
				t.Errorf("availableSeats after late cancel = %d, want %d", got, seats)
			}
		})
	})
}

func TestProviderView(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		e := newEnv(t, dialect, callTimeout)
		fp := newFakeProvider(t)
		ok := succeeding()
		// The student's first name decides the provider's answer.
		fp.onReserve(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Query().Get("studentFirstName") {
			case "Reject":
				jsonAnswer(`{"successful":false,"errorMessage":"No"}`)(w, r)
			case "Broken":
				answer(http.StatusInternalServerError, "text/plain", "down")(w, r)
			default:
				ok(w, r)
			}
		})
		fp.onCancel(jsonAnswer(`{"cancelled":true}`))
		p, co := e.addProvider(t, "acme", fp)
		other, _ := e.addProvider(t, "other", newFakeProvider(t))
		class := e.addClass(t, p, co, "C1", 10)

		reserved := mustBook(t, e, class.ID, "Ola")
		rejected, err := e.svc.Book(ctx, request(class.ID, "Reject"))
		if rejected.State != booking.Rejected {
			t.Fatalf("Book(Reject) = %s, %v; want REJECTED", rejected.State, err)
		}
		abandoned, err := e.svc.Book(ctx, request(class.ID, "Broken"))
		if abandoned.State != booking.Abandoned {
			t.Fatalf("Book(Broken) = %s, %v; want ABANDONED", abandoned.State, err)
		}

		t.Run("ForProvider", func(t *testing.T) {
			b, err := e.svc.ForProvider(ctx, p, reserved.Reference)
			if err != nil || b.Reference != reserved.Reference || b.State.EnrollmentStatus() != "NEW" {
				t.Errorf("ForProvider(own reserved) = %s/%s, %v; want the booking, NEW", b.Reference, b.State, err)
			}
			if _, err := e.svc.ForProvider(ctx, other, reserved.Reference); errs.CodeOf(err) != errs.Forbidden {
				t.Errorf("ForProvider(another provider's) = %v, want Forbidden", err)
			}
			for _, ref := range []string{rejected.Reference, abandoned.Reference} {
				if _, err := e.svc.ForProvider(ctx, p, ref); errs.CodeOf(err) != errs.Gone {
					t.Errorf("ForProvider(%s) = %v, want Gone", e.get(t, ref).State, err)
				}
			}
			if _, err := e.svc.ForProvider(ctx, p, booking.NewReference()); errs.CodeOf(err) != errs.NotFound {
				t.Errorf("ForProvider(unknown) = %v, want NotFound", err)
			}
		})

		t.Run("UpdateStatus", func(t *testing.T) {
			// The class starts in 30 days: report from the day after it.
			e.clock.Set(31 * 24 * time.Hour)
			defer e.clock.Set(0)
			now := e.clock.Now().In(class.Zone())
			todayStr := catalog.DateOf(now).String()
			tomorrow := catalog.DateOf(now.AddDate(0, 0, 1)).String()
			dayBeforeStart := daysFromToday(29) // the class starts on day 30
			ref := reserved.Reference
			seats := e.seats(t, class.ID)
			invalid := []struct{ status, date, want string }{
				{"COMPLETED", "", "completionDate: is required"},
				{"COMPLETED", "   ", "completionDate: is required"},
				{"COMPLETED", tomorrow, "completionDate: " + tomorrow + " is in the future"},
				{"COMPLETED", dayBeforeStart, "completionDate: " + dayBeforeStart + " is before class \"C1\" starts on " + class.StartDate.String()},
				{"COMPLETED", "2015-05-05", "is before class"}, // the public example's date
				{"COMPLETED", "2024-13-40", "completionDate: "},
				{"DONE", todayStr, "newStatus: "},
				{"", "", "newStatus: is required"},
			}
			for _, c := range invalid {
				_, err := e.svc.UpdateStatus(ctx, p, ref, c.status, c.date)
				if errs.CodeOf(err) != errs.Invalid || !strings.Contains(errs.MessageOf(err), c.want) {
					t.Errorf("UpdateStatus(%q, %q) = %v, want Invalid containing %q", c.status, c.date, err, c.want)
				}
			}
			if got := e.get(t, ref); got.State != booking.Reserved || got.CompletionDate != "" {
				t.Errorf("after refused updates: %s, completion %q; want RESERVED unchanged", got.State, got.CompletionDate)
			}
			if _, err := e.svc.UpdateStatus(ctx, other, ref, "NO_SHOW", ""); errs.CodeOf(err) != errs.Forbidden {
				t.Errorf("UpdateStatus by another provider = %v, want Forbidden", err)
			}

			b, err := e.svc.UpdateStatus(ctx, p, ref, "COMPLETED", todayStr)
			if err != nil || b.State != booking.Completed || b.CompletionDate != todayStr {
				t.Errorf("UpdateStatus(COMPLETED, today) = %s/%q, %v; want COMPLETED/%s", b.State, b.CompletionDate, err, todayStr)
			}
			if got := e.get(t, ref); got.State != booking.Completed || got.CompletionDate != todayStr {
				t.Errorf("stored after COMPLETED: %s/%q", got.State, got.CompletionDate)
			}
			b, err = e.svc.UpdateStatus(ctx, p, ref, "no_show", "")
			if err != nil || b.State != booking.NoShow {
				t.Errorf("UpdateStatus(no_show) = %s, %v; want NO_SHOW", b.State, err)
			}
			if got := e.get(t, ref); got.State != booking.NoShow || got.CompletionDate != "" {
				t.Errorf("stored after NO_SHOW: %s/%q, want NO_SHOW without completion date", got.State, got.CompletionDate)
			}
			if got := e.seats(t, class.ID); got != seats {
				t.Errorf("availableSeats after status updates = %d, want %d (the seat stays taken)", got, seats)
			}

			b, err = e.svc.UpdateStatus(ctx, p, ref, "COMPLETED", class.StartDate.String())
			if err != nil || b.CompletionDate != class.StartDate.String() {
				t.Errorf("UpdateStatus(COMPLETED on the start date) = %q, %v", b.CompletionDate, err)
			}

			e.clock.Set(0) // back before the deadlines, to book and cancel
			cancelled := mustBook(t, e, class.ID, "Kari")
			if _, err := e.svc.Cancel(ctx, cancelled.Reference); err != nil {
				t.Fatalf("Cancel: %v", err)
			}
			e.clock.Set(31 * 24 * time.Hour)
			if _, err := e.svc.UpdateStatus(ctx, p, cancelled.Reference, "COMPLETED", "2015-05-05"); errs.CodeOf(err) != errs.Conflict {
				t.Errorf("UpdateStatus(COMPLETED, bad date) of a cancelled booking = %v, want Conflict first", err)
			}
			for _, s := range []string{"NO_SHOW", "NEW"} {
				if _, err := e.svc.UpdateStatus(ctx, p, cancelled.Reference, s, ""); errs.CodeOf(err) != errs.Conflict {
					t.Errorf("UpdateStatus(%s) of a cancelled booking = %v, want Conflict", s, err)
				}
			}
			if got := e.get(t, cancelled.Reference); got.State != booking.Cancelled {
				t.Errorf("cancelled booking is now %s", got.State)
			}
			if _, err := e.svc.UpdateStatus(ctx, p, rejected.Reference, "NEW", ""); errs.CodeOf(err) != errs.Gone {
				t.Errorf("UpdateStatus of a rejected booking = %v, want Gone", err)
			}
		})
	})
}

func TestCancelledClassWithBookings(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		e := newEnv(t, dialect, callTimeout)
		fp := newFakeProvider(t)
		fp.onReserve(succeeding())
		p, co := e.addProvider(t, "acme", fp)
		class := e.addClass(t, p, co, "C1", 5)
		b := mustBook(t, e, class.ID, "Ola")

		c, err := e.cat.CancelClass(ctx, p, co.ExternalID, class.ExternalID)
		if err != nil || !c.Cancelled() {
			t.Fatalf("CancelClass = cancelled %v, %v", c.Cancelled(), err)
		}
		if stored, err := e.db.ClassByID(ctx, class.ID); err != nil || !stored.Cancelled() {
			t.Fatalf("class after CancelClass: cancelled %v, %v; want kept and cancelled", stored.Cancelled(), err)
		}
		all, err := e.db.Notifications(ctx, b.ID)
		noErr(t, err, "Notifications")
		var ns []booking.Notification
		for _, n := range all {
			if n.Kind == mail.KindClassCancelled && n.To == b.Enroller.Email {
				ns = append(ns, n)
			}
		}
		if len(ns) != 1 {
			t.Fatalf("%d class_cancelled notifications to the enroller, want 1", len(ns))
		}
		if ns[0].To != b.Enroller.Email || ns[0].Kind != "class_cancelled" || !strings.Contains(ns[0].Body, b.Reference) {
			t.Errorf("notification = to %q kind %q body %q; want to the enroller %q, class_cancelled, naming the booking",
				ns[0].To, ns[0].Kind, ns[0].Body, b.Enroller.Email)
		}
		if _, err := e.svc.Book(ctx, request(class.ID, "Per")); errs.CodeOf(err) != errs.Conflict || !strings.Contains(err.Error(), "cancelled") {
			t.Errorf("Book on a cancelled class = %v, want Conflict: cancelled", err)
		}

		// Within the hour the provider can restore it.
		e.catClock.Advance(30 * time.Minute)
		c, err = e.cat.RestoreClass(ctx, p, co.ExternalID, class.ExternalID)
		if err != nil || c.Cancelled() {
			t.Fatalf("RestoreClass within the hour = cancelled %v, %v", c.Cancelled(), err)
		}
		if _, err := e.cat.CancelClass(ctx, p, co.ExternalID, class.ExternalID); err != nil {
			t.Fatalf("CancelClass again: %v", err)
		}
		if n, err := e.cat.SweepCancelled(ctx); err != nil || n != 0 {
			t.Errorf("SweepCancelled right after cancelling = %d, %v; want 0", n, err)
		}

		e.catClock.Advance(61 * time.Minute)
		if n, err := e.cat.SweepCancelled(ctx); err != nil || n != 1 {
			t.Fatalf("SweepCancelled after 61 minutes = %d, %v; want 1", n, err)
		}
		if _, err := e.cat.RestoreClass(ctx, p, co.ExternalID, class.ExternalID); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("RestoreClass after the sweep = %v, want NotFound", err)
		}
		if _, err := e.svc.Book(ctx, request(class.ID, "Per")); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("Book on a deleted class = %v, want NotFound", err)
		}
		again, err := e.cat.AddClass(ctx, p, co.ExternalID, classFields(class.ExternalID, 3))
		if err != nil {
			t.Fatalf("AddClass with the deleted class's externalId: %v", err)
		}
		if again.ID == class.ID {
			t.Errorf("the new class reuses the deleted class's row %d", class.ID)
		}
		got := e.get(t, b.Reference)
		if got.State != booking.Reserved || got.ClassID != class.ID || got.ClassExternalID != class.ExternalID || got.ProviderReference != b.ProviderReference {
			t.Errorf("booking after the sweep = %s class %d/%q provider ref %q; want RESERVED on %d/%q, %q",
				got.State, got.ClassID, got.ClassExternalID, got.ProviderReference, class.ID, class.ExternalID, b.ProviderReference)
		}
		if n := e.seats(t, again.ID); n != 3 {
			t.Errorf("the new class has %d seats, want 3", n)
		}
		mustBook(t, e, again.ID, "Nils")
	})
}

func TestCleanupAbandoned(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		e := newEnv(t, dialect, callTimeout)
		fp := newFakeProvider(t)
		fp.onReserve(func(w http.ResponseWriter, r *http.Request) { // times out
			select {
			case <-r.Context().Done():
			case <-time.After(3 * time.Second):
			}
		})
		var cancels atomic.Int64
		fp.onCancel(func(w http.ResponseWriter, r *http.Request) {
			if cancels.Add(1) == 1 {
				answer(http.StatusInternalServerError, "text/plain", "try later")(w, r)
				return
			}
			jsonAnswer(`{"cancelled":"true"}`)(w, r)
		})
		p, co := e.addProvider(t, "acme", fp)
		class := e.addClass(t, p, co, "C1", 5)

		b, err := e.svc.Book(ctx, request(class.ID, "Ola"))
		if errs.CodeOf(err) != errs.BadGateway || b.State != booking.Abandoned || !b.CleanupPending {
			t.Fatalf("Book against a provider that times out = %s cleanup %v, %v; want ABANDONED, cleanup pending, BadGateway",
				b.State, b.CleanupPending, err)
		}
		if got := e.seats(t, class.ID); got != 5 {
			t.Errorf("availableSeats after an abandoned booking = %d, want 5", got)
		}
		pending, err := e.svc.PendingCleanups(ctx, 10)
		if err != nil || len(pending) != 1 || pending[0] != b.Reference {
			t.Errorf("PendingCleanups = %v, %v; want [%s]", pending, err, b.Reference)
		}

		if err := e.svc.CleanupAbandoned(ctx, b.Reference); err == nil {
			t.Errorf("first CleanupAbandoned (provider answers 500) = nil, want an error")
		}
		if got := e.get(t, b.Reference); !got.CleanupPending || got.State != booking.Abandoned {
			t.Errorf("after a failed cleanup: %s cleanup pending %v; want ABANDONED, true", got.State, got.CleanupPending)
		}
		if err := e.svc.CleanupAbandoned(ctx, b.Reference); err != nil {
			t.Errorf("second CleanupAbandoned: %v", err)
		}
		if got := e.get(t, b.Reference); got.CleanupPending || got.State != booking.Abandoned {
			t.Errorf("after a successful cleanup: %s cleanup pending %v; want ABANDONED, false", got.State, got.CleanupPending)
		}
		if pending, err := e.svc.PendingCleanups(ctx, 10); err != nil || len(pending) != 0 {
			t.Errorf("PendingCleanups after cleanup = %v, %v; want none", pending, err)
		}
		// Done is done: no further call.
		if err := e.svc.CleanupAbandoned(ctx, b.Reference); err != nil {
			t.Errorf("third CleanupAbandoned: %v", err)
		}
		calls := fp.cancelCalls()
		if len(calls) != 2 {
			t.Fatalf("provider saw %d cancel calls, want 2", len(calls))
		}
		for i, q := range calls {
			if got := q.Get("trainingportalBookingReference"); got != b.Reference {
				t.Errorf("cancel call %d: trainingportalBookingReference = %q, want %q", i, got, b.Reference)
			}
		}
		if got := e.seats(t, class.ID); got != 5 {
			t.Errorf("availableSeats after cleanup = %d, want 5", got)
		}
	})
}

func TestAbandonStale(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		e := newEnv(t, dialect, callTimeout)
		fp := newFakeProvider(t)
		p, co := e.addProvider(t, "acme", fp)
		class := e.addClass(t, p, co, "C1", 5)
		// Bookings a stopped process left PENDING: stored with their seat, never answered.
		pending := func(age time.Duration) booking.Booking {
			at := time.Now().Add(-age)
			b := booking.Booking{Reference: booking.NewReference(), ClassID: class.ID, State: booking.Pending,
				Student: booking.Person{FirstName: "Ola", LastName: "N"}, Enroller: booking.Person{Email: "kari@example.com"},
				CreatedAt: at, UpdatedAt: at}
			noErr(t, e.db.CreateBooking(ctx, &b, func(catalog.Class) error { return nil }), "CreateBooking")
			return b
		}
		// Given up once the call timeout plus the margin has passed, not before.
		limit := callTimeout + booking.PendingMargin
		stale, fresh := pending(limit+time.Second), pending(limit-2*time.Second)
		if got := e.seats(t, class.ID); got != 3 {
			t.Fatalf("availableSeats with two PENDING bookings = %d, want 3", got)
		}
		n, err := e.svc.AbandonStale(ctx)
		if err != nil || n != 1 {
			t.Fatalf("AbandonStale = %d, %v; want 1", n, err)
		}
		if got := e.get(t, stale.Reference); got.State != booking.Abandoned || !got.CleanupPending || got.Message == "" {
			t.Errorf("stale booking: %s cleanup %v message %q; want ABANDONED, cleanup pending, a reason", got.State, got.CleanupPending, got.Message)
		}
		if got := e.get(t, fresh.Reference); got.State != booking.Pending {
			t.Errorf("fresh booking: %s, want PENDING (its reserve call may still be running)", got.State)
		}
		if got := e.seats(t, class.ID); got != 4 {
			t.Errorf("availableSeats = %d, want 4 (the stale booking's seat given back)", got)
		}
		if refs, _ := e.svc.PendingCleanups(ctx, 10); len(refs) != 1 || refs[0] != stale.Reference {
			t.Errorf("PendingCleanups = %v, want [%s]", refs, stale.Reference)
		}
		if n, err := e.svc.AbandonStale(ctx); err != nil || n != 0 {
			t.Errorf("second AbandonStale = %d, %v; want 0", n, err)
		}
	})
}

// A retry with the Idempotency-Key of a booking still PENDING is told how long to wait
// (the time until its PendingDeadline, at least 1 s); a retry after that deadline finds
// the booking given up at once, its seat back and its cleanup pending, not PENDING
// until the next scan.
func TestRetryOfPendingBooking(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		e := newEnv(t, dialect, callTimeout)
		fp := newFakeProvider(t)
		p, co := e.addProvider(t, "acme", fp)
		class := e.addClass(t, p, co, "C1", 5)
		req := booking.Request{ClassID: class.ID, Student: booking.Person{FirstName: "Ola", LastName: "N"},
			Enroller: booking.Person{Email: "kari@example.com"}, IdempotencyKey: "1:retry-me"}
		// What a process killed during the reserve call leaves: PENDING, seat taken.
		made := time.Now().Add(-5 * time.Second)
		b := booking.Booking{Reference: booking.NewReference(), ClassID: class.ID, State: booking.Pending,
			Student: req.Student, Enroller: req.Enroller, IdempotencyKey: req.IdempotencyKey, CreatedAt: made, UpdatedAt: made}
		noErr(t, e.db.CreateBooking(ctx, &b, func(catalog.Class) error { return nil }), "CreateBooking")

		deadline := callTimeout + booking.PendingMargin - 5*time.Second // from the booking engine's now
		for _, tc := range []struct {
			name             string
			offset           time.Duration // of the booking engine's clock
			minWait, maxWait time.Duration // 0: no Retry-After
			wantState        booking.State
		}{
			// Real time passes between the steps (much of it on a loaded machine), so
			// the waits are bounds: never past the deadline, never under a second.
			{"just made", 0, time.Second, deadline + time.Second, booking.Pending},
			{"3 s before the deadline", deadline - 3*time.Second, time.Second, 4 * time.Second, booking.Pending},
			{"after the deadline", deadline, 0, 0, booking.Abandoned},
			{"again after the deadline", time.Hour, 0, 0, booking.Abandoned},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e.clock.Set(tc.offset)
				got, err := e.svc.Book(ctx, req)
				if got.Reference != b.Reference {
					t.Fatalf("the retry answered booking %q (err %v), want the first request's %q", got.Reference, err, b.Reference)
				}
				if got.State != tc.wantState {
					t.Errorf("state %s, want %s", got.State, tc.wantState)
				}
				wait := errs.RetryAfterOf(err)
				if tc.maxWait == 0 {
					if wait != 0 || !errs.Is(err, errs.BadGateway) {
						t.Errorf("err %v with Retry-After %v; want BadGateway without one", err, wait)
					}
					return
				}
				if !errs.Is(err, errs.Conflict) || wait < tc.minWait || wait > tc.maxWait {
					t.Errorf("err %v with Retry-After %v; want Conflict, Retry-After in [%v, %v]", err, wait, tc.minWait, tc.maxWait)
				}
			})
		}
		if got := e.seats(t, class.ID); got != 5 {
			t.Errorf("availableSeats = %d, want 5 (the abandoned booking's seat given back)", got)
		}
		if got := e.get(t, b.Reference); !got.CleanupPending {
			t.Error("the abandoned booking has no cleanup pending")
		}
		if n := len(fp.reserveCalls()); n != 0 {
			t.Errorf("the retries made %d reserve calls, want none", n)
		}
	})
}
