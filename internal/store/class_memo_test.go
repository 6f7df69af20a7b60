package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/store/storetest"
)

// TestModifyClassAfterChangesElsewhere checks ModifyClass when the class changed, on
// another connection, between two of its calls: on PostgreSQL the second call first
// tries the class as the first left it (classMemo), which must then count for
// nothing. A seat taken stays taken, a deleted class is not found, a class restored
// meanwhile is not refused as cancelled, and what ModifyClass returns is the row.
func TestModifyClassAfterChangesElsewhere(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := storetest.Open(t, dialect)
		_, co, cl := seed(t, db)
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.SQL().ExecContext(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		stored := func() catalog.Class {
			t.Helper()
			got, err := db.Classes(ctx, co.ID)
			if err != nil || len(got) != 1 {
				t.Fatalf("Classes = %v, %v", got, err)
			}
			return got[0]
		}
		addSeats := func(n int) func(*catalog.Class) error {
			return func(c *catalog.Class) error {
				if c.Cancelled() {
					return errs.E(errs.Conflict, "cancelled")
				}
				c.AvailableSeats += n
				c.UpdatedAt = time.Now()
				return nil
			}
		}

		t.Run("a seat taken between two changes stays taken", func(t *testing.T) {
			if _, err := db.ModifyClass(ctx, co.ID, cl.ExternalID, addSeats(5), nil); err != nil {
				t.Fatal(err)
			}
			exec(`UPDATE classes SET available_seats = available_seats - 1 WHERE id = $1`, cl.ID)
			got, err := db.ModifyClass(ctx, co.ID, cl.ExternalID, addSeats(5), nil)
			if err != nil {
				t.Fatal(err)
			}
			// 10 seats, five added, one taken, five added.
			if s := stored(); s.AvailableSeats != 19 || got.AvailableSeats != 19 {
				t.Errorf("stored %d seats, ModifyClass returned %d; want 19", s.AvailableSeats, got.AvailableSeats)
			}
		})

		t.Run("the class returned is the class stored", func(t *testing.T) {
			if _, err := db.ModifyClass(ctx, co.ID, cl.ExternalID, addSeats(1), nil); err != nil {
				t.Fatal(err)
			}
			got, err := db.ModifyClass(ctx, co.ID, cl.ExternalID, addSeats(1), nil)
			if err != nil {
				t.Fatal(err)
			}
			s := stored()
			got.UpdatedAt = got.UpdatedAt.Truncate(time.Millisecond).UTC()
			if got.ID != s.ID || got.CourseExternalID != s.CourseExternalID || got.ProviderID != s.ProviderID ||
				!got.CreatedAt.Equal(s.CreatedAt) || !got.UpdatedAt.Equal(s.UpdatedAt) || got.AvailableSeats != s.AvailableSeats ||
				*got.StartTime != *s.StartTime || *got.EndTime != *s.EndTime || got.Address != s.Address || got.Price != s.Price {
				t.Errorf("ModifyClass returned\n%+v\nstored\n%+v", got, s)
			}
		})

		t.Run("a class restored meanwhile is not refused", func(t *testing.T) {
			cancelled := time.Now()
			if _, err := db.ModifyClass(ctx, co.ID, cl.ExternalID, func(c *catalog.Class) error {
				c.CancelledAt = &cancelled
				return nil
			}, nil); err != nil {
				t.Fatal(err)
			}
			exec(`UPDATE classes SET cancelled_at = NULL WHERE id = $1`, cl.ID)
			before := stored().AvailableSeats
			if _, err := db.ModifyClass(ctx, co.ID, cl.ExternalID, addSeats(2), nil); err != nil {
				t.Fatalf("ModifyClass of a class restored meanwhile: %v", err)
			}
			if s := stored(); s.AvailableSeats != before+2 {
				t.Errorf("stored %d seats, want %d", s.AvailableSeats, before+2)
			}
		})

		t.Run("a class deleted meanwhile is not found", func(t *testing.T) {
			if _, err := db.ModifyClass(ctx, co.ID, cl.ExternalID, addSeats(1), nil); err != nil {
				t.Fatal(err)
			}
			seats := stored().AvailableSeats
			exec(`UPDATE classes SET deleted_at = 1 WHERE id = $1`, cl.ID)
			called := false
			_, err := db.ModifyClass(ctx, co.ID, cl.ExternalID, func(c *catalog.Class) error {
				called = true
				return addSeats(1)(c)
			}, nil)
			if !errs.Is(err, errs.NotFound) {
				t.Errorf("err = %v, want NotFound (fn called: %v)", err, called)
			}
			var left int
			if err := db.SQL().QueryRowContext(ctx, `SELECT available_seats FROM classes WHERE id = $1`, cl.ID).Scan(&left); err != nil {
				t.Fatal(err)
			}
			if left != seats {
				t.Errorf("the deleted class's seats went from %d to %d", seats, left)
			}
		})

		t.Run("a new class under the same external id is the one changed", func(t *testing.T) {
			again := newClass(t, co, cl.ExternalID)
			if err := db.CreateClass(ctx, &again); err != nil {
				t.Fatal(err)
			}
			got, err := db.ModifyClass(ctx, co.ID, cl.ExternalID, addSeats(3), nil)
			if err != nil {
				t.Fatal(err)
			}
			if s := stored(); got.ID != again.ID || s.ID != again.ID || s.AvailableSeats != 13 {
				t.Errorf("changed class %d, stored class %d with %d seats; want class %d with 13", got.ID, s.ID, s.AvailableSeats, again.ID)
			}
		})
	})
}
