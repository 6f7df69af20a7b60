package store_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/providercall"
	"github.com/tportal/tportal/internal/store/storetest"
)

// RecordReserveAnswer writes the journal entries always, and the booking with its
// seat, event and mails only when the booking is still in the state the caller
// expects; the mails are queued in its transaction, and a failing queue rolls the
// whole answer back (the journal entries too, as in one transaction).
func TestRecordReserveAnswer(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := storetest.Open(t, dialect)
		_, _, cl := seed(t, db)
		now := time.Now().UTC().Truncate(time.Millisecond)
		pending := func(ref string) booking.Booking {
			t.Helper()
			b := booking.Booking{Reference: ref, ClassID: cl.ID, State: booking.Pending, CreatedAt: now, UpdatedAt: now,
				Enroller: booking.Person{Email: "kari@acme.example"}}
			if err := db.CreateBooking(ctx, &b, func(catalog.Class) error { return nil }); err != nil {
				t.Fatal(err)
			}
			return b
		}
		call := func(ref string) []providercall.Call {
			return []providercall.Call{{At: now, ProviderID: 1, ProviderName: "Acme", Kind: providercall.KindReserve,
				URL: "https://acme.example/reserve", BookingReference: ref, HTTPStatus: 200, Outcome: providercall.OutcomeAnswered,
				Success: true, RequestParams: "a=b\n", AnswerBody: `{"successful":true}`}}
		}
		journal := func(ref string) int {
			t.Helper()
			calls, err := db.Calls(ctx, providercall.CallFilter{BookingReference: ref})
			if err != nil {
				t.Fatal(err)
			}
			return len(calls)
		}
		seats := func() int {
			t.Helper()
			c, err := db.ClassByID(ctx, cl.ID)
			if err != nil {
				t.Fatal(err)
			}
			return c.AvailableSeats
		}
		var queued []int64
		db.SetMailQueue(func(_ context.Context, _ *sql.Tx, ids []int64) error {
			queued = append(queued, ids...)
			return nil
		})
		later := now.Add(time.Second)

		t.Run("reserved with mails", func(t *testing.T) {
			before := pending("TP-R")
			after := before
			after.State, after.ProviderReference, after.UpdatedAt = booking.Reserved, "P-1", later
			after.Outbox = []booking.Notification{
				{BookingID: before.ID, Kind: "booking_confirmed", To: "kari@acme.example", Subject: "Booked", CreatedAt: later},
				{BookingID: before.ID, Kind: "booking_confirmed", To: "ola@acme.example", Subject: "Booked", Calendar: "BEGIN:VCALENDAR", CreatedAt: later},
			}
			queued = nil
			updated, err := db.RecordReserveAnswer(ctx, call("TP-R"), before, &after)
			if err != nil || !updated {
				t.Fatalf("RecordReserveAnswer = %v, %v; want updated", updated, err)
			}
			got, err := db.BookingByReference(ctx, "TP-R")
			if err != nil || got.State != booking.Reserved || got.ProviderReference != "P-1" || !got.UpdatedAt.Equal(later) {
				t.Errorf("stored %+v, %v; want RESERVED P-1 at %v", got, err, later)
			}
			ns, err := db.Notifications(ctx, before.ID)
			if err != nil || len(ns) != 2 || ns[0].To != "kari@acme.example" || ns[1].Calendar != "BEGIN:VCALENDAR" {
				t.Fatalf("notifications %+v, %v; want both, in order", ns, err)
			}
			ids := []int64{ns[0].ID, ns[1].ID}
			if !slices.Equal(ids, []int64{after.Outbox[0].ID, after.Outbox[1].ID}) || !slices.Equal(queued, ids) {
				t.Errorf("outbox IDs %v, set %d %d, queued %v; want the same", ids, after.Outbox[0].ID, after.Outbox[1].ID, queued)
			}
			events, _ := db.BookingEvents(ctx, before.ID)
			if len(events) != 1 || events[0].From != booking.Pending || events[0].To != booking.Reserved || !events[0].At.Equal(later) {
				t.Errorf("events %+v; want PENDING → RESERVED at %v", events, later)
			}
			if n := journal("TP-R"); n != 1 {
				t.Errorf("%d journal entries, want 1", n)
			}
		})

		t.Run("refused gives the seat back", func(t *testing.T) {
			before := pending("TP-X")
			seatsBefore := seats()
			after := before
			after.State, after.Message, after.UpdatedAt = booking.Rejected, "Full", later
			if updated, err := db.RecordReserveAnswer(ctx, call("TP-X"), before, &after); err != nil || !updated {
				t.Fatalf("RecordReserveAnswer = %v, %v; want updated", updated, err)
			}
			if got := seats(); got != seatsBefore+1 {
				t.Errorf("availableSeats %d, want %d", got, seatsBefore+1)
			}
			if got, _ := db.BookingByReference(ctx, "TP-X"); got.State != booking.Rejected || got.Message != "Full" {
				t.Errorf("stored %s %q, want REJECTED Full", got.State, got.Message)
			}
		})

		t.Run("moved meanwhile", func(t *testing.T) {
			before := pending("TP-A")
			if _, err := db.ModifyBooking(ctx, "TP-A", func(b *booking.Booking) error {
				b.State, b.CleanupPending, b.Message, b.UpdatedAt = booking.Abandoned, true, "gave up", later
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			seatsBefore := seats()
			after := before
			after.State, after.ProviderReference, after.UpdatedAt = booking.Reserved, "P-2", later.Add(time.Second)
			after.Outbox = []booking.Notification{{BookingID: before.ID, Kind: "booking_confirmed", To: "kari@acme.example", CreatedAt: later}}
			queued = nil
			updated, err := db.RecordReserveAnswer(ctx, call("TP-A"), before, &after)
			if err != nil || updated {
				t.Fatalf("RecordReserveAnswer = %v, %v; want not updated", updated, err)
			}
			if got, _ := db.BookingByReference(ctx, "TP-A"); got.State != booking.Abandoned || got.ProviderReference != "" {
				t.Errorf("stored %s %q, want ABANDONED as it was", got.State, got.ProviderReference)
			}
			if ns, _ := db.Notifications(ctx, before.ID); len(ns) != 0 || len(queued) != 0 {
				t.Errorf("notifications %+v, queued %v; want none", ns, queued)
			}
			if events, _ := db.BookingEvents(ctx, before.ID); len(events) != 1 || events[0].To != booking.Abandoned {
				t.Errorf("events %+v; want only PENDING → ABANDONED", events)
			}
			if got := seats(); got != seatsBefore {
				t.Errorf("availableSeats %d, want %d (the seat went back once)", got, seatsBefore)
			}
			if n := journal("TP-A"); n != 1 {
				t.Errorf("%d journal entries, want 1: the call happened", n)
			}
		})

		t.Run("a failing queue rolls the answer back", func(t *testing.T) {
			db.SetMailQueue(func(context.Context, *sql.Tx, []int64) error { return errors.New("queue down") })
			defer db.SetMailQueue(nil)
			before := pending("TP-Q")
			after := before
			after.State, after.UpdatedAt = booking.Reserved, later
			after.Outbox = []booking.Notification{{BookingID: before.ID, Kind: "booking_confirmed", To: "kari@acme.example", CreatedAt: later}}
			if _, err := db.RecordReserveAnswer(ctx, call("TP-Q"), before, &after); err == nil {
				t.Fatal("RecordReserveAnswer with a failing queue = nil error")
			}
			if got, _ := db.BookingByReference(ctx, "TP-Q"); got.State != booking.Pending {
				t.Errorf("stored %s, want PENDING", got.State)
			}
			if ns, _ := db.Notifications(ctx, before.ID); len(ns) != 0 {
				t.Errorf("notifications %+v; want none", ns)
			}
		})
	})
}
