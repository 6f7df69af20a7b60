package store

import (
	"context"
	"strings"

	"github.com/tportal/tportal/internal/booking"
)

var _ booking.ListStore = (*DB)(nil)

// ListBookings implements booking.ListStore: the same SQL on both databases, walking
// the primary key downwards, so every page costs an index range scan however deep
// the caller pages.
func (s *DB) ListBookings(ctx context.Context, q booking.ListQuery, beforeID int64, limit int) ([]booking.Booking, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + itoa(len(args))
	}
	if beforeID > 0 {
		where = append(where, "b.id < "+arg(beforeID))
	}
	if len(q.States) > 0 {
		ps := make([]string, len(q.States))
		for i, st := range q.States {
			ps[i] = arg(string(st))
		}
		where = append(where, "b.state IN ("+strings.Join(ps, ", ")+")")
	}
	if q.ClassID != 0 {
		where = append(where, "b.class_id = "+arg(q.ClassID))
	}
	if q.CompanyID != 0 {
		where = append(where, "b.company_id = "+arg(q.CompanyID))
	}
	if q.CourseID != 0 {
		where = append(where, "cl.course_id = "+arg(q.CourseID))
	}
	if !q.CreatedFrom.IsZero() {
		where = append(where, "b.created_at >= "+arg(millis(q.CreatedFrom)))
	}
	if !q.CreatedTo.IsZero() {
		where = append(where, "b.created_at < "+arg(millis(q.CreatedTo)))
	}
	sql := `SELECT ` + bookingColumns + bookingFrom
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY b.id DESC LIMIT " + arg(limit)
	return queryAll(ctx, s, "list bookings", sql, args, scanBooking)
}
