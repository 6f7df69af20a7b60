package store

import "github.com/tportal/tportal/internal/booking"

// BookingsQuery is Bookings' query for f and its arguments, for the test of its plan.
func BookingsQuery(f booking.Filter) (string, []any) { return bookingsQuery(f) }

// HasPendingBookingQuery is HasPendingBooking's query, for the test of its plan.
const HasPendingBookingQuery = hasPendingBooking
