package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/store/storetest"
)

func TestOutbox(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := storetest.Open(t, dialect)
		_, co, cl := seed(t, db)
		now := time.Now().UTC().Truncate(time.Millisecond)
		b := booking.Booking{Reference: "TP-1", ClassID: cl.ID, State: booking.Reserved, CreatedAt: now, UpdatedAt: now,
			Enroller: booking.Person{Email: "ola@acme.example"}}
		if err := db.CreateBooking(ctx, &b, func(catalog.Class) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if got, err := db.CourseByID(ctx, co.ID); err != nil || got.Name != co.Name {
			t.Errorf("CourseByID = %+v, %v; want %q", got, err, co.Name)
		}
		if _, err := db.CourseByID(ctx, co.ID+100); !errs.Is(err, errs.NotFound) {
			t.Errorf("CourseByID of an unknown course = %v, want NotFound", err)
		}

		// The queue sees the new IDs inside the transaction that stores them.
		var queued []int64
		db.SetMailQueue(func(_ context.Context, tx *sql.Tx, ids []int64) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications`).Scan(&n); err != nil {
				return err
			}
			if n < len(ids) {
				return errors.New("the new messages are not visible in the transaction")
			}
			queued = append(queued, ids...)
			return nil
		})
		ns := []booking.Notification{
			{Kind: "password_reset", To: "kari@acme.example", Subject: "Reset", Body: "link", CreatedAt: now},
			{BookingID: b.ID, Kind: "booking_confirmed", To: "ola@acme.example", Subject: "Booked", Body: "text",
				Calendar: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", CreatedAt: now},
		}
		if err := db.CreateNotifications(ctx, ns); err != nil {
			t.Fatal(err)
		}
		if ns[0].ID == 0 || ns[1].ID <= ns[0].ID || len(queued) != 2 || queued[0] != ns[0].ID || queued[1] != ns[1].ID {
			t.Fatalf("IDs %d, %d; queued %v; want increasing IDs, both queued", ns[0].ID, ns[1].ID, queued)
		}
		got, err := db.Notification(ctx, ns[1].ID)
		if err != nil || got.BookingID != b.ID || got.Calendar != ns[1].Calendar || got.Kind != "booking_confirmed" ||
			!got.CreatedAt.Equal(now) || got.SentAt != nil || got.Attempts != 0 {
			t.Errorf("Notification = %+v, %v; want it as stored, unsent", got, err)
		}
		if got, err := db.Notification(ctx, ns[0].ID); err != nil || got.BookingID != 0 {
			t.Errorf("account message = %+v, %v; want no booking", got, err)
		}
		if _, err := db.Notification(ctx, 9999); !errs.Is(err, errs.NotFound) {
			t.Errorf("unknown message = %v, want NotFound", err)
		}

		// A change and its messages commit together: a queue that fails rolls both back.
		db.SetMailQueue(func(context.Context, *sql.Tx, []int64) error { return errors.New("queue down") })
		_, err = db.ModifyBooking(ctx, b.Reference, func(b *booking.Booking) error {
			b.State = booking.Cancelled
			b.Outbox = []booking.Notification{{BookingID: b.ID, Kind: "booking_cancelled", To: "ola@acme.example", CreatedAt: now}}
			return nil
		})
		if err == nil {
			t.Fatal("ModifyBooking with a failing queue = nil error")
		}
		if after, _ := db.BookingByReference(ctx, b.Reference); after.State != booking.Reserved {
			t.Errorf("booking %s after a rolled-back change, want RESERVED", after.State)
		}
		db.SetMailQueue(nil)
		if _, err := db.ModifyBooking(ctx, b.Reference, func(b *booking.Booking) error {
			b.State = booking.Cancelled
			b.Outbox = []booking.Notification{{BookingID: b.ID, Kind: "booking_cancelled", To: "ola@acme.example", CreatedAt: now}}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		mine, err := db.Notifications(ctx, b.ID)
		if err != nil || len(mine) != 2 || mine[1].Kind != "booking_cancelled" {
			t.Fatalf("booking's messages = %+v, %v; want the confirmation and one cancellation", mine, err)
		}

		// Delivery bookkeeping.
		noErr := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		noErr(db.RecordNotificationFailure(ctx, ns[0].ID, "451 try later"))
		noErr(db.RecordNotificationFailure(ctx, ns[0].ID, "451 try later again"))
		noErr(db.MarkNotificationSent(ctx, ns[1].ID, now))
		if got, _ := db.Notification(ctx, ns[0].ID); got.Attempts != 2 || got.LastError != "451 try later again" || got.SentAt != nil {
			t.Errorf("after two failures = %+v", got)
		}
		if got, _ := db.Notification(ctx, ns[1].ID); got.SentAt == nil || !got.SentAt.Equal(now) {
			t.Errorf("sent message has SentAt %v, want %v", got.SentAt, now)
		}
		for _, tt := range []struct {
			maxAttempts int
			want        []int64
		}{{3, []int64{ns[0].ID, mine[1].ID}}, {2, []int64{mine[1].ID}}} {
			ids, err := db.UnsentNotifications(ctx, tt.maxAttempts, 10)
			noErr(err)
			if !slices.Equal(ids, tt.want) {
				t.Errorf("UnsentNotifications(max %d) = %v, want %v", tt.maxAttempts, ids, tt.want)
			}
		}

		// The staff page's listing: newest first, account mails included, paged,
		// optionally unsent only, with the delivery status.
		for _, tt := range []struct {
			f    booking.NotificationFilter
			want []int64
		}{
			{booking.NotificationFilter{Limit: 10}, []int64{mine[1].ID, ns[1].ID, ns[0].ID}},
			{booking.NotificationFilter{Limit: 2}, []int64{mine[1].ID, ns[1].ID}},
			{booking.NotificationFilter{BeforeID: ns[1].ID, Limit: 10}, []int64{ns[0].ID}},
			{booking.NotificationFilter{Unsent: true, Limit: 10}, []int64{mine[1].ID, ns[0].ID}},
			{booking.NotificationFilter{Recipient: "KARI@", Limit: 10}, []int64{ns[0].ID}},
			{booking.NotificationFilter{Kind: "booking_cancelled", Limit: 10}, []int64{mine[1].ID}},
		} {
			list, err := db.ListNotifications(ctx, tt.f)
			noErr(err)
			var ids []int64
			for _, n := range list {
				ids = append(ids, n.ID)
				switch n.ID {
				case ns[0].ID:
					if n.BookingReference != "" || n.BookingID != 0 || n.Attempts != 2 || n.LastError != "451 try later again" {
						t.Errorf("listed account mail = %+v; want no booking, 2 attempts and the last error", n)
					}
				case ns[1].ID:
					if n.BookingReference != b.Reference || n.Calendar == "" || n.SentAt == nil {
						t.Errorf("listed confirmation = %+v; want its booking, calendar and sent time", n)
					}
				}
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("ListNotifications(%+v) = %v, want %v", tt.f, ids, tt.want)
			}
		}
	})
}

// Writers that share a transaction (SQLite's group commit) each get the IDs of
// their own rows: a booking's ID, and its messages' IDs in the order given.
func TestConcurrentWritesGetTheirOwnIDs(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := storetest.Open(t, dialect)
		_, _, cl := seed(t, db)
		if _, err := db.SQL().ExecContext(ctx, `UPDATE classes SET available_seats = 1000 WHERE id = $1`, cl.ID); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := range 10 {
					ref := fmt.Sprintf("TP-%d-%d", w, i)
					b := booking.Booking{Reference: ref, ClassID: cl.ID, State: booking.Pending, CreatedAt: now, UpdatedAt: now}
					if err := db.CreateBooking(ctx, &b, func(catalog.Class) error { return nil }); err != nil {
						t.Error(err)
						return
					}
					if got, err := db.BookingByReference(ctx, ref); err != nil || got.ID != b.ID {
						t.Errorf("booking %s: ID %d, stored as %d (%v)", ref, b.ID, got.ID, err)
					}
					ns := make([]booking.Notification, 1+i%3)
					for j := range ns {
						ns[j] = booking.Notification{BookingID: b.ID, Kind: "booking_confirmed",
							To: fmt.Sprintf("%s-%d@acme.example", ref, j), CreatedAt: now}
					}
					if err := db.CreateNotifications(ctx, ns); err != nil {
						t.Error(err)
						return
					}
					for _, n := range ns {
						if got, err := db.Notification(ctx, n.ID); err != nil || got.To != n.To || got.BookingID != b.ID {
							t.Errorf("message %d: stored as %+v (%v), want to %s", n.ID, got, err, n.To)
						}
					}
				}
			})
		}
		wg.Wait()
	})
}
