package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/store/storetest"
)

// TestClassToBook: one query returns the class as ClassByID does, with its provider
// and course as ProviderByID and CourseByID do.
func TestClassToBook(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := storetest.Open(t, dialect)
		_, co, cl := seed(t, db)
		c, p, course, err := db.ClassToBook(ctx, cl.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantC, _ := db.ClassByID(ctx, cl.ID)
		wantP, _ := db.ProviderByID(ctx, co.ProviderID)
		wantCo, _ := db.CourseByID(ctx, co.ID)
		if c.ID != wantC.ID || c.CourseExternalID != "BST" || c.ProviderID != wantP.ID || c.AvailableSeats != wantC.AvailableSeats ||
			c.StartDate != wantC.StartDate || *c.EndTime != *wantC.EndTime || c.Address != wantC.Address || !c.UpdatedAt.Equal(wantC.UpdatedAt) {
			t.Errorf("class:\n got %+v\nwant %+v", c, wantC)
		}
		if p != wantP {
			t.Errorf("provider:\n got %+v\nwant %+v", p, wantP)
		}
		if course != wantCo {
			t.Errorf("course:\n got %+v\nwant %+v", course, wantCo)
		}
		if _, _, _, err := db.ClassToBook(ctx, 99999); !errs.Is(err, errs.NotFound) {
			t.Errorf("unknown class: %v, want NotFound", err)
		}
	})
}

// TestCreateBookingTakesSeat: the check sees the locked class before the seat is
// taken; a refusal, or no seat left, stores nothing and takes no seat.
func TestCreateBookingTakesSeat(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := storetest.Open(t, dialect)
		_, co, _ := seed(t, db)
		one := newClass(t, co, "ONE")
		one.AvailableSeats = 1
		if err := db.CreateClass(ctx, &one); err != nil {
			t.Fatal(err)
		}
		book := func(ref string, check func(catalog.Class) error) (booking.Booking, error) {
			now := time.Now()
			b := booking.Booking{Reference: ref, ClassID: one.ID, Student: booking.Person{FirstName: "Per", LastName: "Berg"},
				State: booking.Pending, CreatedAt: now, UpdatedAt: now}
			return b, db.CreateBooking(ctx, &b, check)
		}
		seats := func() int {
			c, err := db.ClassByID(ctx, one.ID)
			if err != nil {
				t.Fatal(err)
			}
			return c.AvailableSeats
		}
		stored := func(ref string) bool {
			_, err := db.BookingByReference(ctx, ref)
			return err == nil
		}

		refuse := errs.E(errs.Conflict, "refused")
		if _, err := book("R-1", func(catalog.Class) error { return refuse }); err != refuse {
			t.Fatalf("refused: %v", err)
		}
		if seats() != 1 || stored("R-1") {
			t.Errorf("a refused booking left %d seats, stored %v", seats(), stored("R-1"))
		}

		var seen catalog.Class
		b, err := book("R-2", func(c catalog.Class) error { seen = c; return nil })
		if err != nil {
			t.Fatal(err)
		}
		if seen.AvailableSeats != 1 || seen.ExternalID != "ONE" || seen.CourseExternalID != "BST" {
			t.Errorf("check saw %+v, want the class with its 1 seat", seen)
		}
		if b.ID == 0 || b.ClassExternalID != "ONE" || b.CourseID != co.ID || b.CourseExternalID != "BST" || b.ProviderID != co.ProviderID {
			t.Errorf("booking's ids not filled: %+v", b)
		}
		if seats() != 0 || !stored("R-2") {
			t.Errorf("after a booking: %d seats, stored %v", seats(), stored("R-2"))
		}

		// No seat left: the check decides on the locked class (here it lets it through,
		// and the store still refuses).
		for _, check := range []func(catalog.Class) error{
			func(catalog.Class) error { return nil },
			func(c catalog.Class) error { return booking.Bookable(c, time.Now()) },
		} {
			_, err = book("R-3", check)
			if !errs.Is(err, errs.Conflict) || errs.MessageOf(err) != `class "ONE" has no seats left` {
				t.Errorf("full class: %v", err)
			}
			if seats() != 0 || stored("R-3") {
				t.Errorf("a full class left %d seats, stored %v", seats(), stored("R-3"))
			}
		}
	})
}
