package gwstore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"

	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/gateway"
)

// bookingCols are the columns scanBooking reads; they need the join
// gw_bookings b JOIN gw_classes c ON c.id = b.class_id.
const bookingCols = `b.id, b.portal_reference, c.course_id, c.external_id, b.status,
	b.student_first_name, b.student_last_name, b.student_email, b.student_phone, b.student_birth_date,
	b.enroller_first_name, b.enroller_last_name, b.enroller_email, b.enroller_phone,
	b.company, b.note, b.completion_date, b.created_at, b.updated_at`

const bookingFrom = ` FROM gw_bookings b JOIN gw_classes c ON c.id = b.class_id `

// The hot queries of bookings (see stmt.go).
const (
	qBookingByPortalRef = `SELECT ` + bookingCols + bookingFrom + `WHERE b.portal_reference = $1`
	qBookingByID        = `SELECT ` + bookingCols + bookingFrom + `WHERE b.id = $1`
	qTakeSeat           = `UPDATE gw_classes SET free_seats = free_seats - 1, updated_at = $2 WHERE id = $1 AND free_seats > 0`
	qGiveSeat           = `UPDATE gw_classes SET free_seats = free_seats + 1, updated_at = $2 WHERE id = $1 AND free_seats < seats`
	qInsertBooking      = `INSERT INTO gw_bookings (portal_reference, class_id, status,
	student_first_name, student_last_name, student_email, student_phone, student_birth_date,
	enroller_first_name, enroller_last_name, enroller_email, enroller_phone, company, created_at, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING id`
	qUpdateBooking = `UPDATE gw_bookings SET status = $2, note = $3, completion_date = $4, updated_at = $5,
	student_first_name = $6, student_last_name = $7, student_email = $8, student_phone = $9, student_birth_date = $10,
	enroller_first_name = $11, enroller_last_name = $12, enroller_email = $13, enroller_phone = $14, company = $15 WHERE id = $1`
)

func scanBooking(r scanner) (gateway.Booking, error) {
	var b gateway.Booking
	var id, created, updated int64
	err := r.Scan(&id, &b.PortalReference, &b.CourseID, &b.ClassID, &b.Status,
		&b.Student.FirstName, &b.Student.LastName, &b.Student.Email, &b.Student.Phone, &b.Student.BirthDate,
		&b.Enroller.FirstName, &b.Enroller.LastName, &b.Enroller.Email, &b.Enroller.Phone,
		&b.Company, &b.Note, &b.CompletionDate, &created, &updated)
	b.Reference = strconv.FormatInt(id, 10)
	b.CreatedAt, b.UpdatedAt = fromMillis(created), fromMillis(updated)
	return b, err
}

// HoldSeat implements gateway.Store. The class row is locked first, then the portal's
// reference is looked up, so two calls with the same reference take turns and the
// second finds the first's booking; the unique index on portal_reference backs this up
// for calls naming different classes.
func (s *DB) HoldSeat(ctx context.Context, r gateway.ReserveRequest, check func(*gateway.Class) error) (gateway.Booking, bool, error) {
	var (
		out     gateway.Booking
		created bool
	)
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		c, err := s.class(ctx, tx, r.CourseID, r.ClassID, s.dialect.forUpdate)
		if err != nil {
			return err
		}
		existing, err := s.booking(ctx, tx, gateway.BookingKey{PortalReference: r.PortalReference})
		if err == nil {
			out = existing
			return nil
		}
		if !errs.Is(err, errs.NotFound) {
			return err
		}
		if err := check(&c.Class); err != nil {
			return err
		}
		now := millis(time.Now())
		res, err := s.exec(ctx, tx, qTakeSeat, c.id, now)
		if err != nil {
			return mapErr(err, "class "+c.Key())
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return errSoldOut(c.Class)
		}
		var id int64
		err = s.queryRow(ctx, tx, qInsertBooking,
			r.PortalReference, c.id, gateway.Held,
			r.Student.FirstName, r.Student.LastName, r.Student.Email, r.Student.Phone, r.Student.BirthDate,
			r.Enroller.FirstName, r.Enroller.LastName, r.Enroller.Email, r.Enroller.Phone, r.Company, now).Scan(&id)
		if err != nil {
			return mapErr(err, "booking "+r.PortalReference)
		}
		at := fromMillis(now)
		out = gateway.Booking{Reference: strconv.FormatInt(id, 10), PortalReference: r.PortalReference,
			CourseID: c.CourseID, ClassID: c.ID, Status: gateway.Held, Student: r.Student, Enroller: r.Enroller,
			Company: r.Company, CreatedAt: at, UpdatedAt: at}
		created = true
		if s.queue == nil {
			return nil
		}
		if err := s.queue.BookingHeld(ctx, tx, out); err != nil {
			return err
		}
		return s.classChanged(ctx, tx, c.CourseID, c.ID)
	})
	if errs.Is(err, errs.Conflict) && !created {
		// The same portal reference raced in on another class: answer with its booking.
		if b, err2 := s.Booking(ctx, gateway.BookingKey{PortalReference: r.PortalReference}); err2 == nil {
			return b, false, nil
		}
	}
	if err != nil {
		return gateway.Booking{}, false, err
	}
	return out, created, nil
}

// bookingWhere returns the condition selecting key, and false when key cannot match
// any booking (a provider reference that is not a number).
func bookingWhere(key gateway.BookingKey) (string, []any, bool) {
	var conds []string
	var args []any
	if key.Reference != "" {
		id, err := strconv.ParseInt(strings.TrimSpace(key.Reference), 10, 64)
		if err != nil {
			return "", nil, false
		}
		args = append(args, id)
		conds = append(conds, "b.id = $"+strconv.Itoa(len(args)))
	}
	if key.PortalReference != "" {
		args = append(args, key.PortalReference)
		conds = append(conds, "b.portal_reference = $"+strconv.Itoa(len(args)))
	}
	if len(conds) == 0 {
		return "", nil, false
	}
	return "WHERE " + strings.Join(conds, " AND "), args, true
}

func keyName(key gateway.BookingKey) string {
	if key.Reference != "" {
		return "booking " + key.Reference
	}
	return "booking with trainingportalBookingReference " + key.PortalReference
}

func (s *DB) booking(ctx context.Context, q queryer, key gateway.BookingKey) (gateway.Booking, error) {
	where, args, ok := bookingWhere(key)
	if !ok {
		return gateway.Booking{}, errs.E(errs.NotFound, "%s: not found", keyName(key))
	}
	b, err := scanBooking(s.queryRow(ctx, q, `SELECT `+bookingCols+bookingFrom+where, args...))
	return b, mapErr(err, keyName(key))
}

// Booking implements gateway.Store.
func (s *DB) Booking(ctx context.Context, key gateway.BookingKey) (gateway.Booking, error) {
	return s.booking(ctx, s.db, key)
}

// ModifyBooking implements gateway.Store. It locks the class before the booking, the
// order HoldSeat takes them in, so the two never deadlock.
func (s *DB) ModifyBooking(ctx context.Context, key gateway.BookingKey, fn func(*gateway.Booking, *gateway.Class) error) (gateway.Booking, error) {
	var out gateway.Booking
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		found, err := s.booking(ctx, tx, key)
		if err != nil {
			return err
		}
		c, err := s.class(ctx, tx, found.CourseID, found.ClassID, s.dialect.forUpdate)
		if err != nil {
			return err
		}
		id, _ := strconv.ParseInt(found.Reference, 10, 64)
		before, err := scanBooking(s.queryRow(ctx, tx, qBookingByID+lockOf(s.dialect, "b"), id))
		if err != nil {
			return mapErr(err, keyName(key))
		}
		next, class := before, c.Class
		if err := fn(&next, &class); err != nil {
			return err
		}
		if next == before {
			out = next
			return nil
		}
		next.UpdatedAt = time.Now()
		st, en := next.Student, next.Enroller
		_, err = s.exec(ctx, tx, qUpdateBooking, id, next.Status, next.Note, next.CompletionDate, millis(next.UpdatedAt),
			st.FirstName, st.LastName, st.Email, st.Phone, st.BirthDate, en.FirstName, en.LastName, en.Email, en.Phone, next.Company)
		if err != nil {
			return mapErr(err, keyName(key))
		}
		out = next
		seatMoved := before.Status.HoldsSeat() != next.Status.HoldsSeat()
		if seatMoved {
			if err := s.moveSeat(ctx, tx, c, next.Status.HoldsSeat()); err != nil {
				return err
			}
		}
		if s.queue == nil {
			return nil
		}
		if next.Status.IsOutcome() && (next.Status != before.Status || next.CompletionDate != before.CompletionDate) {
			if err := s.queue.AttendanceRecorded(ctx, tx, next); err != nil {
				return err
			}
		}
		if seatMoved {
			return s.classChanged(ctx, tx, c.CourseID, c.ID)
		}
		return nil
	})
	return out, err
}

// moveSeat takes a seat of c (take) or gives one back, within the class's bounds.
func (s *DB) moveSeat(ctx context.Context, tx *sql.Tx, c classRow, take bool) error {
	q := qGiveSeat
	if take {
		q = qTakeSeat
	}
	res, err := s.exec(ctx, tx, q, c.id, millis(time.Now()))
	if err != nil {
		return mapErr(err, "class "+c.Key())
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		if take {
			return errSoldOut(c.Class)
		}
		return errs.E(errs.Internal, "class %s: a seat given back would exceed its %d seats", c.Key(), c.Seats)
	}
	return nil
}

// lockOf is the row-lock suffix for the table alias in a join (PostgreSQL locks only
// that table's row).
func lockOf(d dialect, alias string) string {
	if d.forUpdate == "" {
		return ""
	}
	return d.forUpdate + " OF " + alias
}

// Bookings implements gateway.Store.
func (s *DB) Bookings(ctx context.Context, f gateway.BookingFilter) ([]gateway.Booking, error) {
	var conds []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.CourseID != "" {
		add("c.course_id = ?", f.CourseID)
	}
	if f.ClassID != "" {
		add("c.external_id = ?", f.ClassID)
	}
	if len(f.Statuses) > 0 {
		var in []string
		for _, st := range f.Statuses {
			args = append(args, st)
			in = append(in, "$"+strconv.Itoa(len(args)))
		}
		conds = append(conds, "b.status IN ("+strings.Join(in, ", ")+")")
	}
	where := ""
	if len(conds) > 0 {
		where = "WHERE " + strings.Join(conds, " AND ")
	}
	return queryAll(ctx, s.db, "bookings", `SELECT `+bookingCols+bookingFrom+where+` ORDER BY b.id`, args, scanBooking)
}
