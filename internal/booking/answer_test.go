package booking_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/providercall"
	"github.com/tportal/tportal/internal/store/storetest"
)

// The reserve answer is written to the booking Book made, if it is still PENDING:
// the booking gets its new state, one history event, its mails dated no earlier
// than that event (so the history lists the change first), the call's journal
// entry, and the seat count follows. For an answer that gives the seat back
// (refused, no answer) the seat is back once.
func TestReserveAnswerRecorded(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		e := newEnv(t, dialect, callTimeout)
		fp := newFakeProvider(t)
		p, co := e.addProvider(t, "acme", fp)
		for _, tc := range []struct {
			name      string
			answer    http.HandlerFunc
			want      booking.State
			seatsLeft int
			mails     int
		}{
			{"reserved", jsonAnswer(`{"successful":true,"bookingReference":"P-1"}`), booking.Reserved, 4, 2},
			{"refused", jsonAnswer(`{"successful":false,"errorMessage":"Full"}`), booking.Rejected, 5, 0},
			{"no answer", answer(http.StatusInternalServerError, "text/plain", "oops"), booking.Abandoned, 5, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				class := e.addClass(t, p, co, "A-"+tc.name, 5)
				fp.onReserve(tc.answer)
				b, _ := e.svc.Book(ctx, request(class.ID, "Ola"))
				if b.State != tc.want {
					t.Fatalf("Book: state %s, want %s", b.State, tc.want)
				}
				stored := e.get(t, b.Reference)
				if stored.State != b.State || stored.Message != b.Message || stored.ProviderReference != b.ProviderReference ||
					!stored.UpdatedAt.Equal(b.UpdatedAt) || !stored.CreatedAt.Equal(b.CreatedAt) || stored.CleanupPending != b.CleanupPending {
					t.Errorf("Book returned %+v,\nthe store has %+v", b, stored)
				}
				if got := e.seats(t, class.ID); got != tc.seatsLeft {
					t.Errorf("availableSeats = %d, want %d", got, tc.seatsLeft)
				}
				events, err := e.db.BookingEvents(ctx, b.ID)
				noErr(t, err, "BookingEvents")
				if len(events) != 1 || events[0].From != booking.Pending || events[0].To != tc.want || !events[0].At.Equal(stored.UpdatedAt) {
					t.Fatalf("events %+v; want one PENDING → %s at %v", events, tc.want, stored.UpdatedAt)
				}
				ns, err := e.db.Notifications(ctx, b.ID)
				noErr(t, err, "Notifications")
				if len(ns) != tc.mails || len(b.Outbox) != tc.mails {
					t.Fatalf("%d mails stored, %d returned; want %d", len(ns), len(b.Outbox), tc.mails)
				}
				for i, n := range ns {
					if n.CreatedAt.Before(events[0].At) || n.ID != b.Outbox[i].ID {
						t.Errorf("mail %d: id %d at %v; want id %d, not before the event at %v", i, n.ID, n.CreatedAt, b.Outbox[i].ID, events[0].At)
					}
				}
				calls, err := e.db.Calls(ctx, providercall.CallFilter{BookingReference: b.Reference})
				noErr(t, err, "Calls")
				if len(calls) != 1 || calls[0].Kind != providercall.KindReserve {
					t.Errorf("journal %+v; want the reserve call", calls)
				}
			})
		}
	})
}

// A booking another instance gave up (AbandonStale) while its reserve call was
// running keeps that instance's state: the late answer writes the call's journal
// entry but no change, no history event and no mail, and the seat is given back
// once, not twice.
func TestReserveAnswerAfterAbandonStale(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		e, other := openTwice(t, dialect, callTimeout)
		fp := newFakeProvider(t)
		p, co := e.addProvider(t, "acme", fp)
		class := e.addClass(t, p, co, "C1", 5)
		var abandoned int
		fp.onReserve(func(w http.ResponseWriter, r *http.Request) {
			// The other instance's clock is past the booking's PendingDeadline.
			other.clock.Set(time.Hour)
			n, err := other.svc.AbandonStale(ctx)
			noErr(t, err, "AbandonStale")
			abandoned = n
			jsonAnswer(`{"successful":true,"bookingReference":"P-LATE"}`)(w, r)
		})
		b, err := e.svc.Book(ctx, request(class.ID, "Ola"))
		if abandoned != 1 {
			t.Fatalf("AbandonStale during the call gave up %d bookings, want 1", abandoned)
		}
		if b.State != booking.Abandoned || !b.CleanupPending || b.ProviderReference != "" || err == nil {
			t.Fatalf("Book = %s (cleanup %v, provider reference %q), %v; want ABANDONED by the other instance, cleanup pending, an error",
				b.State, b.CleanupPending, b.ProviderReference, err)
		}
		if stored := e.get(t, b.Reference); stored.State != booking.Abandoned || stored.ProviderReference != "" || !stored.CleanupPending {
			t.Errorf("stored %s, provider reference %q, cleanup %v; want ABANDONED as the other instance left it", stored.State, stored.ProviderReference, stored.CleanupPending)
		}
		if got := e.seats(t, class.ID); got != 5 {
			t.Errorf("availableSeats = %d, want 5 (the seat given back once)", got)
		}
		events, err := e.db.BookingEvents(ctx, b.ID)
		noErr(t, err, "BookingEvents")
		if len(events) != 1 || events[0].From != booking.Pending || events[0].To != booking.Abandoned {
			t.Errorf("events %+v; want only PENDING → ABANDONED", events)
		}
		if ns, err := e.db.Notifications(ctx, b.ID); err != nil || len(ns) != 0 {
			t.Errorf("notifications %+v, %v; want none", ns, err)
		}
		calls, err := e.db.Calls(ctx, providercall.CallFilter{BookingReference: b.Reference})
		noErr(t, err, "Calls")
		if len(calls) != 1 || calls[0].Kind != providercall.KindReserve || !calls[0].Success {
			t.Errorf("journal %+v; want the successful reserve call", calls)
		}
	})
}
