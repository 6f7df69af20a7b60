package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/store"
	"github.com/tportal/tportal/internal/store/storetest"
)

// TestBookingIndexesServeTheirQueries checks that the partial indexes of migration
// 00014 still serve the queries they exist for, on both databases: a provider's
// look-up by its own reference, and the staff list of a company's bookings.
func TestBookingIndexesServeTheirQueries(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		db := storetest.Open(t, dialect)
		for _, c := range []struct {
			index, query string
			args         []any
		}{
			{"bookings_provider_reference", store.ProviderBookingsQuery, []any{int64(1), "P-1"}},
			// The term booking_list.go adds for a company's bookings.
			{"bookings_company_id", `SELECT b.id FROM bookings b WHERE b.company_id = $1 ORDER BY b.id`, []any{int64(1)}},
		} {
			if plan := queryPlan(t, db, c.query, c.args...); !strings.Contains(plan, c.index) {
				t.Errorf("%s is not used by\n%s\nplan:\n%s", c.index, c.query, plan)
			}
		}
	})
}

// A provider's look-up finds a booking by the reference its reserve answer gave, and
// an empty reference, which a booking has until that answer, is nobody's.
func TestProviderBookingsByProviderReference(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := storetest.Open(t, dialect)
		p, _, cl := seed(t, db)
		now := time.Now().UTC().Truncate(time.Millisecond)
		for _, ref := range []string{"TP-A", "TP-B"} {
			b := booking.Booking{Reference: ref, ClassID: cl.ID, State: booking.Pending, CreatedAt: now, UpdatedAt: now}
			if err := db.CreateBooking(ctx, &b, func(catalog.Class) error { return nil }); err != nil {
				t.Fatal(err)
			}
			if ref == "TP-B" {
				after := b
				after.State, after.ProviderReference = booking.Reserved, "P-7"
				if updated, err := db.RecordReserveAnswer(ctx, nil, b, &after); err != nil || !updated {
					t.Fatalf("RecordReserveAnswer = %v, %v", updated, err)
				}
			}
		}
		for _, c := range []struct {
			ref  string
			want []string
		}{
			{"P-7", []string{"TP-B"}},
			{"TP-A", []string{"TP-A"}},
			{"", nil},
			{"P-8", nil},
		} {
			bs, err := db.ProviderBookings(ctx, p.ID, c.ref)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, b := range bs {
				got = append(got, b.Reference)
			}
			if strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Errorf("ProviderBookings(%q) = %v, want %v", c.ref, got, c.want)
			}
		}
	})
}
