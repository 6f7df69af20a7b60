package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/store/storetest"
)

// TestModifyClassSeesChangesMadeMeanwhile checks that a change made to a class by
// someone else while ModifyClass's fn runs (a booking taking a seat, the sweep
// deleting it) is never overwritten by the write fn's outcome was computed for: fn
// runs again on the new row, or runs holding the lock so the other change waits.
// ModifyClass writes without a lock on PostgreSQL when it has no then (issue 11), so
// this is what its conditional write must get right.
func TestModifyClassSeesChangesMadeMeanwhile(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := storetest.Open(t, dialect)
		_, co, cl := seed(t, db)
		// meanwhile runs q on its own connection during fn's first call, as another
		// instance would. Under ModifyClass's row lock it waits for the commit, so fn
		// waits for it only a while.
		meanwhile := func(q string, args ...any) (fn func(*catalog.Class) error, wait func(), calls *int) {
			done := make(chan error, 1)
			calls = new(int)
			fn = func(c *catalog.Class) error {
				*calls++
				if *calls == 1 {
					go func() {
						_, err := db.SQL().ExecContext(ctx, q, args...)
						done <- err
					}()
					select {
					case err := <-done:
						done <- err
					case <-time.After(time.Second):
					}
				}
				c.AvailableSeats += 5
				c.Location = "Changed"
				return nil
			}
			wait = func() {
				t.Helper()
				if err := <-done; err != nil {
					t.Fatal(err)
				}
			}
			return fn, wait, calls
		}

		t.Run("a seat taken meanwhile stays taken", func(t *testing.T) {
			fn, wait, calls := meanwhile(`UPDATE classes SET available_seats = available_seats - 1 WHERE id = $1`, cl.ID)
			got, err := db.ModifyClass(ctx, co.ID, cl.ExternalID, fn, nil)
			if err != nil {
				t.Fatal(err)
			}
			wait()
			stored, err := db.Classes(ctx, co.ID)
			if err != nil || len(stored) != 1 {
				t.Fatalf("Classes = %v, %v", stored, err)
			}
			// 10 seats, one taken, five added: in whichever order, 14.
			if stored[0].AvailableSeats != 14 || stored[0].Location != "Changed" {
				t.Errorf("after fn (called %d times) returned %d seats: stored %d seats at %q, want 14 at Changed",
					*calls, got.AvailableSeats, stored[0].AvailableSeats, stored[0].Location)
			}
		})

		t.Run("a class deleted meanwhile is not found", func(t *testing.T) {
			fn, wait, _ := meanwhile(`UPDATE classes SET deleted_at = 1 WHERE id = $1`, cl.ID)
			_, err := db.ModifyClass(ctx, co.ID, cl.ExternalID, fn, nil)
			wait()
			stored, _ := db.Classes(ctx, co.ID)
			// Under the lock the change commits first and the deletion follows; without
			// it the deletion wins and the change must not be written.
			if err == nil && len(stored) != 0 {
				t.Errorf("class still live after its deletion: %+v", stored)
			}
			if err != nil && !errs.Is(err, errs.NotFound) {
				t.Errorf("err = %v, want NotFound or none", err)
			}
		})
	})
}
