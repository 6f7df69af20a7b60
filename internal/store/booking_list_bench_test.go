package store_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/store/storetest"
)

// BenchmarkListBookings reads one page of 100 bookings out of 5000, at the top and
// at the bottom of the list (cursor paging walks the primary key, so a deep page
// should cost what the first one does), with and without a state filter.
//
//	TPORTAL_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable \
//	  go test -run '^$' -bench ListBookings ./internal/store/
func BenchmarkListBookings(b *testing.B) {
	const total = 5000
	for _, dialect := range storetest.Dialects() {
		b.Run(dialect, func(b *testing.B) {
			ctx := context.Background()
			db := storetest.Open(b, dialect)
			p := catalog.Provider{Name: "Acme", Username: "acme", PasswordHash: "x", CreatedAt: time.Now()}
			if err := db.CreateProvider(ctx, &p); err != nil {
				b.Fatal(err)
			}
			co := catalog.Course{ProviderID: p.ID, ExternalID: "BST", Name: "Basic Safety", CreatedAt: time.Now()}
			if err := db.CreateCourse(ctx, &co); err != nil {
				b.Fatal(err)
			}
			cl, err := catalog.NewClass(co, catalog.ClassFields{
				ExternalID: ptr("BIG"), Location: ptr("Oslo"), AvailableSeats: ptr(strconv.Itoa(total)),
				EnrollmentDeadline: ptr("2030-09-20"), CancellationDeadline: ptr("2030-09-25"),
				StartDate: ptr("2030-10-01"), EndDate: ptr("2030-10-01"), AddressLine1: ptr("Street 1"),
				City: ptr("Oslo"), ZipCode: ptr("0150"), Country: ptr("NO"), Currency: ptr("EUR"), Amount: ptr("1"),
			}, "Europe/Oslo")
			if err != nil {
				b.Fatal(err)
			}
			cl.CreatedAt, cl.UpdatedAt = time.Now(), time.Now()
			if err := db.CreateClass(ctx, &cl); err != nil {
				b.Fatal(err)
			}
			var lowest int64
			for i := range total {
				state := booking.Reserved
				if i%10 == 0 {
					state = booking.Cancelled
				}
				bk := booking.Booking{Reference: booking.NewReference(), ClassID: cl.ID, State: state,
					Student: booking.Person{FirstName: "S", LastName: strconv.Itoa(i)}, Enroller: booking.Person{Email: "e@example.com"},
					CreatedAt: time.Now(), UpdatedAt: time.Now()}
				if err := db.CreateBooking(ctx, &bk, func(catalog.Class) error { return nil }); err != nil {
					b.Fatal(err)
				}
				if lowest == 0 {
					lowest = bk.ID
				}
			}
			for _, bc := range []struct {
				name   string
				q      booking.ListQuery
				before int64
			}{
				{"first page", booking.ListQuery{}, 0},
				{"last page", booking.ListQuery{}, lowest + 100},
				{"first page, state CANCELLED", booking.ListQuery{States: []booking.State{booking.Cancelled}}, 0},
				{"last page, state CANCELLED", booking.ListQuery{States: []booking.State{booking.Cancelled}}, lowest + 1000},
			} {
				b.Run(bc.name, func(b *testing.B) {
					for b.Loop() {
						bs, err := db.ListBookings(ctx, bc.q, bc.before, 100)
						if err != nil || len(bs) == 0 {
							b.Fatalf("ListBookings = %d bookings, %v", len(bs), err)
						}
					}
				})
			}
		})
	}
}
