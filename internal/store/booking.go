package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/providercall"
)

var _ booking.Store = (*DB)(nil)

const bookingColumns = `b.id, b.reference, b.class_id, cl.external_id, cl.course_id, co.external_id, co.provider_id,
	b.student_first_name, b.student_last_name, b.student_email, b.student_phone, b.student_birth_date,
	b.enroller_first_name, b.enroller_last_name, b.enroller_email, b.enroller_phone,
	b.company, b.comment, b.purchase_order_number, b.state, b.provider_reference, b.message,
	b.completion_date, b.cleanup_pending, b.idempotency_key, b.company_id, b.created_at, b.updated_at`

const bookingFrom = ` FROM bookings b JOIN classes cl ON cl.id = b.class_id JOIN courses co ON co.id = cl.course_id `

func scanBooking(row scanner) (booking.Booking, error) {
	var b booking.Booking
	var created, updated int64
	var key sql.NullString
	var company sql.NullInt64
	err := row.Scan(&b.ID, &b.Reference, &b.ClassID, &b.ClassExternalID, &b.CourseID, &b.CourseExternalID, &b.ProviderID,
		&b.Student.FirstName, &b.Student.LastName, &b.Student.Email, &b.Student.Phone, &b.StudentBirthDate,
		&b.Enroller.FirstName, &b.Enroller.LastName, &b.Enroller.Email, &b.Enroller.Phone,
		&b.Company, &b.Comment, &b.PurchaseOrderNumber, &b.State, &b.ProviderReference, &b.Message,
		&b.CompletionDate, &b.CleanupPending, &key, &company, &created, &updated)
	b.CompanyID = company.Int64
	b.CreatedAt, b.UpdatedAt, b.IdempotencyKey = fromMillis(created), fromMillis(updated), key.String
	return b, err
}

// ClassByID implements booking.Store.
func (s *DB) ClassByID(ctx context.Context, id int64) (catalog.Class, error) {
	c, err := scanClass(s.q().QueryRowContext(ctx, `SELECT `+classColumns+classFrom+` WHERE cl.id = $1`, id))
	return c, mapErr(err, "class")
}

// ClassToBook implements booking.Store: the class, its provider and its course in one
// query, as a booking needs all three (the provider's URLs, the course for its mails).
// On PostgreSQL outside a transaction, concurrent reads share statements (classReads).
func (s *DB) ClassToBook(ctx context.Context, id int64) (catalog.Class, catalog.Provider, catalog.Course, error) {
	var r classToBook
	var err error
	if s.dialect.name == "postgres" && s.joined(ctx) == nil {
		r, err = s.classReads.read(ctx, id, s.readClassToBook, s.readClassesToBook)
	} else {
		r, err = s.readClassToBook(ctx, id)
	}
	return r.class, r.provider, r.course, err
}

// classToBook is ClassToBook's answer.
type classToBook struct {
	class    catalog.Class
	provider catalog.Provider
	course   catalog.Course
}

// classToBookColumns are what scanClassToBook reads; classToBookFrom names their
// tables, to be followed by the condition on cl.id.
const (
	classToBookColumns = classColumns + `,
		p.id, p.name, p.username, p.password_hash, p.reserve_url, p.cancel_url, p.secret, p.created_at, p.courses_version,
		co.name, co.description, co.created_at`
	classToBookFrom = classFrom + ` JOIN providers p ON p.id = co.provider_id`
)

// scanClassToBook scans classToBookColumns, then extra.
func scanClassToBook(row scanner, extra ...any) (classToBook, error) {
	var p catalog.Provider
	var co catalog.Course
	var pCreated, coCreated int64
	c, err := scanClass(withExtra{row, append([]any{&p.ID, &p.Name, &p.Username, &p.PasswordHash, &p.ReserveURL, &p.CancelURL, &p.Secret, &pCreated, &p.CoursesVersion,
		&co.Name, &co.Description, &coCreated}, extra...)})
	if err != nil {
		return classToBook{}, err
	}
	p.CreatedAt, co.CreatedAt = fromMillis(pCreated), fromMillis(coCreated)
	co.ID, co.ProviderID, co.ExternalID = c.CourseID, c.ProviderID, c.CourseExternalID
	return classToBook{c, p, co}, nil
}

// readClassToBook reads class id for ClassToBook on its own.
func (s *DB) readClassToBook(ctx context.Context, id int64) (classToBook, error) {
	r, err := scanClassToBook(s.row(ctx, `SELECT `+classToBookColumns+classToBookFrom+` WHERE cl.id = $1`, id))
	return r, mapErr(err, "class")
}

// readClassesToBook sets the answers of several classes' reads with one statement.
func (s *DB) readClassesToBook(ctx context.Context, ids []int64, answers []readAnswer[classToBook]) {
	found := make([]bool, len(ids))
	err := s.readRows(ctx, classesToBookSQL, []any{ids}, func(rows pgx.Rows) error {
		var i int64
		r, err := scanClassToBook(rows, &i)
		if err != nil {
			return err
		}
		answers[i-1], found[i-1] = readAnswer[classToBook]{v: r}, true
		return nil
	})
	for i := range ids {
		switch {
		case err != nil:
			answers[i] = readAnswer[classToBook]{err: mapErr(err, "class")}
		case !found[i]:
			answers[i] = readAnswer[classToBook]{err: mapErr(sql.ErrNoRows, "class")}
		}
	}
}

// classesToBookSQL reads the classes whose ids are in $1 for ClassToBook, each with
// the 1-based position of its id, through the primary key per id (see providersSQL
// for the shape).
var classesToBookSQL = `SELECT x.*, k.i FROM unnest((SELECT $1::bigint[])) WITH ORDINALITY AS k(id, i)
	JOIN LATERAL (SELECT ` + classToBookColumns + classToBookFrom + ` WHERE cl.id = k.id LIMIT 1) x ON true`

// withExtra scans a row whose first columns are what the scanning function expects
// and whose last ones go to extra, so that one query can feed scanClass and more.
type withExtra struct {
	row   scanner
	extra []any
}

// Scan implements scanner.
func (w withExtra) Scan(dest ...any) error { return w.row.Scan(append(dest, w.extra...)...) }

// takeSeat is SQLite's statement that takes a seat of a live class and returns the
// class as it is now (PostgreSQL's is takeSeatsAndInsert). The guard on
// available_seats keeps the count from going below zero whatever a caller's check
// says. The course's columns come from subqueries, as SQLite's RETURNING may not
// name the tables of a FROM.
const takeSeat = `UPDATE classes SET available_seats = available_seats - 1, ever_booked = TRUE
	WHERE id = $1 AND deleted_at IS NULL AND available_seats > 0` + takenClass

// takenClass is the RETURNING clause of the statements that take seats: the class as
// scanClass reads it.
const takenClass = `
	RETURNING id, course_id, (SELECT external_id FROM courses WHERE courses.id = classes.course_id),
		(SELECT provider_id FROM courses WHERE courses.id = classes.course_id), external_id, location, available_seats,
		enrollment_deadline, cancellation_deadline, start_date, start_time, end_date, end_time,
		time_zone, address_line1, address_line2, city, zip_code, country,
		currency, amount_minor, send_schedule_info, cancelled_at, created_at, updated_at`

// CreateBooking implements booking.Store. On SQLite, taking the seat is the first
// statement of a transaction (in the group commit, store.tx), which returns the class
// for check; the booking is inserted after it. PostgreSQL's way is
// createBookingAtOnce. On both the booking is inserted after the update, not before:
// on PostgreSQL its foreign key takes a key-share lock on the class row, and many
// bookings sharing that lock before updating the row made PostgreSQL build a
// multixact per booking, which halved the rate.
func (s *DB) CreateBooking(ctx context.Context, b *booking.Booking, check func(catalog.Class) error) error {
	if s.dialect.name == "postgres" {
		return s.createBookingAtOnce(ctx, b, check)
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		c, err := scanClass(s.in(tx).QueryRowContext(ctx, takeSeat, b.ClassID))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return s.noSeatTaken(ctx, s.in(tx), b.ClassID, check)
		case err != nil:
			return mapErr(err, "take a seat")
		}
		c.AvailableSeats++ // check sees the class as it was before this booking's seat
		if err := check(c); err != nil {
			return err // rolls the seat back
		}
		b.ClassExternalID, b.CourseID, b.CourseExternalID, b.ProviderID = c.ExternalID, c.CourseID, c.CourseExternalID, c.ProviderID
		res, err := s.in(tx).ExecContext(ctx, insertBookingRow, bookingInsertValues(*b)...)
		if err != nil {
			return mapErr(err, "booking")
		}
		b.ID, err = res.LastInsertId()
		return mapErr(err, "booking")
	})
	if err != nil {
		b.ID = 0
	}
	return err
}

// createBookingAtOnce is CreateBooking on PostgreSQL: the seat and the insert in one
// statement on its own, a transaction of one statement, then check on the class it
// returned. The class's row is then locked only while PostgreSQL runs the statement
// and flushes its commit, not across the client's round trips for check and COMMIT:
// on a busy machine the client may wait milliseconds to be scheduled, and every
// booking of the same class waited behind it, which capped bookings of a popular
// class at ~600/s. This process's concurrent bookings of one class share one such
// statement (seatbatch.go), so that they also share the lock's hold and the flush.
//
// check rarely fails here, as the booking engine checked the class it read before
// (ClassToBook); it fails only when the class was cancelled or closed in between.
// Then undoBooking deletes the booking just inserted and gives its seat back. Nothing
// acted on the booking meanwhile: it is PENDING, no reserve call was made, and a
// class's cancellation that came first did not see it. A crash (or a failure of
// undoBooking) between the two leaves a PENDING booking holding a seat with no
// reserve call made, which a crash between CreateBooking and the reserve call leaves
// too: AbandonStale gives it up after its PendingDeadline and gives the seat back.
// A unique violation (a concurrent request with the same idempotency key) fails the
// whole statement, the seat's update with it, so it needs no undoing.
func (s *DB) createBookingAtOnce(ctx context.Context, b *booking.Booking, check func(catalog.Class) error) error {
	r := &seatRequest{ctx: ctx, b: b}
	if s.joined(ctx) != nil {
		// In a caller's transaction, which a shared statement must not join.
		r.alone = true
	} else {
		s.seats.book(s, r)
	}
	if r.alone {
		r.err = s.takeSeats(ctx, []*seatRequest{r})
	}
	if r.err != nil || !r.taken {
		b.ID = 0
		if r.err != nil {
			return r.err
		}
		return s.noSeatTaken(ctx, s.q(), b.ClassID, check)
	}
	if err := check(r.class); err != nil {
		if uerr := s.undoBooking(ctx, b.ID); uerr != nil {
			err = uerr // the booking stays PENDING with its seat, for AbandonStale
		}
		b.ID = 0
		return err
	}
	c := r.class
	b.ClassExternalID, b.CourseID, b.CourseExternalID, b.ProviderID = c.ExternalID, c.CourseID, c.CourseExternalID, c.ProviderID
	return nil
}

// takeSeats takes one seat of the class of rs (one class for all) per request and
// inserts their bookings, all or none, in one statement. For each it sets taken, and
// when taken its booking's ID and its class as it was before its seat. err is the
// statement's error, no seat being taken.
func (s *DB) takeSeats(ctx context.Context, rs []*seatRequest) error {
	rows := make([][]any, len(rs))
	byRef := make(map[string]*seatRequest, len(rs))
	for i, r := range rs {
		rows[i] = bookingInsertValues(*r.b)
		byRef[r.b.Reference] = r
	}
	args, err := columnArrays(rows)
	if err != nil {
		return err
	}
	args = append([]any{rs[0].b.ClassID, len(rs)}, args...)
	taken, err := s.q().QueryContext(ctx, takeSeatsAndInsert, args...)
	if err != nil {
		return mapErr(err, "take a seat")
	}
	defer taken.Close()
	for taken.Next() {
		var id int64
		var ref string
		c, err := scanClass(withExtra{taken, []any{&id, &ref}})
		if err != nil {
			return mapErr(err, "take a seat")
		}
		if r := byRef[ref]; r != nil {
			r.class, r.b.ID, r.taken = c, id, true
		}
	}
	if err := taken.Err(); err != nil {
		return mapErr(err, "take a seat")
	}
	// Each request's check sees the class as it was before its own seat, the seats
	// going in the order of rs.
	for i, r := range rs {
		r.class.AvailableSeats += len(rs) - i
	}
	return nil
}

// undoBooking deletes the PENDING booking id that createBookingAtOnce inserted and
// gives its seat back, in one statement. The class stays marked ever_booked, which
// only keeps its row when it is deleted. It runs even when ctx was cancelled after
// the booking was made, so that a client's going away does not leave the seat taken
// until AbandonStale.
func (s *DB) undoBooking(ctx context.Context, id int64) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
	defer cancel()
	_, err := s.q().ExecContext(ctx, `WITH d AS (DELETE FROM bookings WHERE id = $1 AND state = 'PENDING' RETURNING class_id)
		UPDATE classes SET available_seats = available_seats + 1 WHERE id = (SELECT class_id FROM d)`, id)
	return mapErr(err, "undo a booking")
}

// undoTimeout bounds undoBooking, which does not end with its caller's context.
const undoTimeout = 10 * time.Second

// noSeatTaken explains why takeSeat took no seat of class id: deleted (NotFound),
// the class's check failing, or else no seat left (Conflict).
func (s *DB) noSeatTaken(ctx context.Context, q querier, id int64, check func(catalog.Class) error) error {
	c, err := scanClass(q.QueryRowContext(ctx, `SELECT `+classColumns+classFrom+`
		WHERE cl.id = $1 AND cl.deleted_at IS NULL`, id))
	if err != nil {
		return mapErr(err, "class")
	}
	if err := check(c); err != nil {
		return err
	}
	return errs.E(errs.Conflict, "class %q has no seats left", c.ExternalID)
}

// insertBooking starts the statement that stores a new booking, before its row;
// bookingInsertValues makes the row.
const insertBooking = `INSERT INTO bookings (reference, class_id, student_first_name, student_last_name, student_email,
	student_phone, student_birth_date, enroller_first_name, enroller_last_name, enroller_email,
	enroller_phone, company, comment, purchase_order_number, state, provider_reference, message,
	completion_date, cleanup_pending, idempotency_key, created_at, updated_at, company_id) `

// bookingInsertCount is the number of values of insertBooking's row.
const bookingInsertCount = 23

// insertBookingRow inserts one booking, on SQLite, whose id is then the statement's
// LastInsertId: an Exec, where a RETURNING clause made it a query, and database/sql
// starts a goroutine for every query's rows in a transaction (to close them with
// it), under the group commit's turn.
var insertBookingRow = insertBooking + `VALUES ` + valueRows(1, bookingInsertCount, 1)

func bookingInsertValues(b booking.Booking) []any {
	return []any{b.Reference, b.ClassID, b.Student.FirstName, b.Student.LastName, b.Student.Email,
		b.Student.Phone, b.StudentBirthDate, b.Enroller.FirstName, b.Enroller.LastName, b.Enroller.Email,
		b.Enroller.Phone, b.Company, b.Comment, b.PurchaseOrderNumber, string(b.State), b.ProviderReference, b.Message,
		b.CompletionDate, b.CleanupPending, sql.NullString{String: b.IdempotencyKey, Valid: b.IdempotencyKey != ""},
		millis(b.CreatedAt), millis(b.UpdatedAt), sql.NullInt64{Int64: b.CompanyID, Valid: b.CompanyID != 0}}
}

// takeSeatsAndInsert is the PostgreSQL statement that takes $2 seats of class $1 and
// inserts $2 bookings, all or none: the class as it is after, and each booking's id
// and reference. The bookings come as one array per column of insertBooking ($3 on,
// columnArrays), so that its text is the same for any number of bookings: one
// prepared statement per connection, whose generic plan PostgreSQL keeps. (With a
// VALUES row of parameters per booking there were 32 texts, each planned anew on
// every execution, as custom plans that saw the values.) The arrays come through one
// subquery, a, for the same reason as providersSQL's sub-SELECTs: its OFFSET 0 keeps
// the planner from pulling it up, so even a custom plan's unnest sees columns, not
// the values, and the plan stays the generic one; and the arrays are one row read
// once, where a sub-SELECT per array was 23 InitPlans.
var takeSeatsAndInsert = func() string {
	casts := []string{"text", "bigint", "text", "text", "text", "text", "text", "text", "text", "text",
		"text", "text", "text", "text", "text", "text", "text", "text", "boolean", "text", "bigint", "bigint", "bigint"}
	arrays := make([]string, len(casts))
	columns := make([]string, len(casts))
	for i, c := range casts {
		columns[i] = "a.c" + itoa(i)
		arrays[i] = "$" + itoa(3+i) + "::" + c + "[] AS c" + itoa(i)
	}
	return `WITH c AS (UPDATE classes SET available_seats = available_seats - $2, ever_booked = TRUE
			WHERE id = $1 AND deleted_at IS NULL AND available_seats >= $2` + takenClass + `),
		nb AS (` + insertBooking + `SELECT v.* FROM (SELECT ` + strings.Join(arrays, ", ") + ` OFFSET 0) a,
				unnest(` + strings.Join(columns, ", ") + `) v
			WHERE EXISTS (SELECT 1 FROM c) RETURNING id, reference)
		SELECT c.*, nb.id, nb.reference FROM c, nb`
}()

// columnArrays turns rows of values (each row's values of the same types, as
// bookingInsertValues makes them) into one array per column, for unnest: a NULL
// (an invalid sql.NullString or sql.NullInt64) as a nil pointer.
func columnArrays(rows [][]any) ([]any, error) {
	out := make([]any, len(rows[0]))
	for c := range out {
		switch rows[0][c].(type) {
		case string:
			out[c] = column(rows, c, func(v any) string { return v.(string) })
		case int64:
			out[c] = column(rows, c, func(v any) int64 { return v.(int64) })
		case bool:
			out[c] = column(rows, c, func(v any) bool { return v.(bool) })
		case sql.NullString:
			out[c] = column(rows, c, func(v any) *string {
				if n := v.(sql.NullString); n.Valid {
					return &n.String
				}
				return nil
			})
		case sql.NullInt64:
			out[c] = column(rows, c, func(v any) *int64 {
				if n := v.(sql.NullInt64); n.Valid {
					return &n.Int64
				}
				return nil
			})
		default:
			return nil, errs.E(errs.Internal, "store: no array for a column of type %T", rows[0][c])
		}
	}
	return out, nil
}

// column is column c of rows, each value converted by conv.
func column[T any](rows [][]any, c int, conv func(any) T) []T {
	out := make([]T, len(rows))
	for i, r := range rows {
		out[i] = conv(r[c])
	}
	return out
}

// BookingByReference implements booking.Store.
func (s *DB) BookingByReference(ctx context.Context, ref string) (booking.Booking, error) {
	b, err := scanBooking(s.q().QueryRowContext(ctx, `SELECT `+bookingColumns+bookingFrom+` WHERE b.reference = $1`, ref))
	return b, mapErr(err, "booking "+ref)
}

// ProviderBookings implements booking.Store. Two look-ups joined by UNION ALL, each
// an equality on an indexed column, so that both databases use the indexes whatever
// their statistics say (an OR of the two let PostgreSQL scan the table). The matches
// are few, so they are sorted here.
func (s *DB) ProviderBookings(ctx context.Context, providerID int64, ref string) ([]booking.Booking, error) {
	bs, err := queryAll(ctx, s, "find bookings by reference", providerBookings, []any{providerID, ref}, scanBooking)
	slices.SortFunc(bs, func(a, b booking.Booking) int { return cmp.Compare(b.ID, a.ID) })
	return bs, err
}

// providerBookings is ProviderBookings' query. The provider reference index holds
// only non-empty references (migration 00014): the literal condition lets SQLite use
// it, and an empty reference, which a booking has until its reserve answer, is no
// provider's reference.
const providerBookings = `SELECT ` + bookingColumns + bookingFrom + `
	WHERE co.provider_id = $1 AND b.reference = $2
	UNION ALL SELECT ` + bookingColumns + bookingFrom + `
	WHERE co.provider_id = $1 AND b.provider_reference = $2 AND b.provider_reference <> '' AND b.reference <> $2`

// HasPendingBooking implements booking.Store. The state is a literal, not a
// parameter, so the partial state index (migration 00017) finds the few PENDING
// bookings directly.
func (s *DB) HasPendingBooking(ctx context.Context, providerID int64) (bool, error) {
	var pending bool
	err := s.q().QueryRowContext(ctx, hasPendingBooking, providerID).Scan(&pending)
	return pending, mapErr(err, "look for pending bookings")
}

// hasPendingBooking is HasPendingBooking's query.
const hasPendingBooking = `SELECT EXISTS (SELECT 1` + bookingFrom + `
	WHERE b.state = 'PENDING' AND co.provider_id = $1)`

// BookingByIdempotencyKey implements booking.Store.
func (s *DB) BookingByIdempotencyKey(ctx context.Context, key string) (booking.Booking, error) {
	b, err := scanBooking(s.q().QueryRowContext(ctx, `SELECT `+bookingColumns+bookingFrom+` WHERE b.idempotency_key = $1`, key))
	return b, mapErr(err, "booking")
}

// ModifyBooking implements booking.Store.
func (s *DB) ModifyBooking(ctx context.Context, ref string, fn func(*booking.Booking) error) (booking.Booking, error) {
	var b booking.Booking
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		b, err = scanBooking(s.in(tx).QueryRowContext(ctx, `SELECT `+bookingColumns+bookingFrom+` WHERE b.reference = $1`+s.lockClause("b"), ref))
		if err != nil {
			return mapErr(err, "booking "+ref)
		}
		before := b
		if err := fn(&b); err != nil {
			return err
		}
		if _, err := s.in(tx).ExecContext(ctx, updateBooking, updateBookingValues(b)...); err != nil {
			return mapErr(err, "update booking "+ref)
		}
		return s.bookingChanged(ctx, tx, before, b)
	})
	return b, err
}

// updateBooking writes what a change of a booking may change; updateBookingValues
// makes its arguments. RecordReserveAnswer adds a condition on the state.
const updateBooking = `UPDATE bookings SET state = $1, provider_reference = $2, message = $3,
	completion_date = $4, cleanup_pending = $5, updated_at = $6 WHERE id = $7`

func updateBookingValues(b booking.Booking) []any {
	return []any{string(b.State), b.ProviderReference, b.Message, b.CompletionDate, b.CleanupPending, millis(b.UpdatedAt), b.ID}
}

// bookingChanged writes in tx what goes with a booking's change from before to
// after, written already: the seat it takes or gives back, its history event
// (staff.go) and its mails (outbox.go).
func (s *DB) bookingChanged(ctx context.Context, tx *sql.Tx, before, after booking.Booking) error {
	if delta := seatDelta(before.State, after.State); delta != 0 {
		res, err := s.in(tx).ExecContext(ctx, `UPDATE classes SET available_seats = available_seats + $1
			WHERE id = $2 AND available_seats + $1 >= 0`, delta, after.ClassID)
		if err != nil {
			return mapErr(err, "move a seat")
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errs.E(errs.Conflict, "class %q has no seats left", after.ClassExternalID)
		}
	}
	if err := s.recordEvent(ctx, tx, before, after); err != nil {
		return err
	}
	return s.addToOutbox(ctx, tx, after.Outbox)
}

// seatDelta is how a move from state from to state to changes the class's
// available seats: +1 when it gives a seat back, -1 when it takes one.
func seatDelta(from, to booking.State) int {
	switch held, holds := from.HoldsSeat(), to.HoldsSeat(); {
	case held && !holds:
		return 1
	case !held && holds:
		return -1
	}
	return 0
}

// RecordReserveAnswer implements booking.Store. The journal entries are the
// []providercall.Call of providercall.BookingCaller. The booking is written with a
// conditional UPDATE rather than read, locked and written back: the booking engine
// knows it (it made it PENDING), and only another instance giving it up
// (AbandonStale) can have moved it, which the condition on the state catches.
func (s *DB) RecordReserveAnswer(ctx context.Context, journal any, before booking.Booking, after *booking.Booking) (updated bool, err error) {
	calls, ok := journal.([]providercall.Call)
	if journal != nil && !ok {
		return false, errs.E(errs.Internal, "store: a reserve call's journal entry of type %T", journal)
	}
	if s.dialect.name == "postgres" {
		updated, err = s.recordReserveAnswerAtOnce(ctx, calls, before, *after)
		if updated && err == nil {
			asStored(after)
		}
		return updated && err == nil, err
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		updated = false // in case tx runs fn more than once
		if err := s.recordCalls(ctx, s.in(tx), calls); err != nil {
			return err
		}
		res, err := s.in(tx).ExecContext(ctx, updateBooking+` AND state = $8`, append(updateBookingValues(*after), string(before.State))...)
		if err != nil {
			return mapErr(err, "update booking "+after.Reference)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return mapErr(err, "update booking "+after.Reference) // nil: moved meanwhile, only the journal entry is written
		}
		updated = true
		return s.bookingChanged(ctx, tx, before, *after)
	})
	if updated && err == nil {
		asStored(after)
	}
	return updated && err == nil, err
}

// recordReserveAnswerAtOnce is RecordReserveAnswer on PostgreSQL: one statement,
// whose data-modifying WITH clauses write the journal entries, the booking if it is
// still in before.State, and then its seat, its history event and its mails. One
// statement is one round trip where the general path takes five or six; on its own
// it is a transaction, so BEGIN and COMMIT need no round trips either. Only a change
// that moves a seat (whose check may fail and must then roll the rest back) or whose
// mails the MailQueue schedules runs it in a transaction. Every
// WITH clause runs to completion whether the booking matched or not, so the journal
// entries are written either way; the others insert nothing when it did not.
func (s *DB) recordReserveAnswerAtOnce(ctx context.Context, calls []providercall.Call, before, after booking.Booking) (bool, error) {
	args := append(updateBookingValues(after), string(before.State))
	q := `WITH u AS (` + updateBooking + ` AND state = $8 RETURNING class_id)`
	if len(calls) > 0 {
		first := len(args) + 1
		for _, c := range calls {
			args = callValues(args, c)
		}
		q += `, j AS (` + insertCalls + valueRows(len(calls), callColumnCount, first) + `)`
	}
	delta := seatDelta(before.State, after.State)
	if delta != 0 {
		args = append(args, delta)
		n := "$" + itoa(len(args))
		q += `, m AS (UPDATE classes SET available_seats = available_seats + ` + n + `
			WHERE id = (SELECT class_id FROM u) AND available_seats + ` + n + ` >= 0 RETURNING id)`
	}
	first := len(args) + 1
	if withEvent, ok := eventValues(args, before, after); ok {
		args = withEvent
		q += `, e AS (` + insertEvent + `SELECT * FROM (VALUES ` +
			valueRows(1, eventColumnCount, first, "bigint", "bigint", "text", "text", "text", "text", "boolean") +
			`) v WHERE EXISTS (SELECT 1 FROM u))`
	}
	if ns := after.Outbox; len(ns) > 0 {
		first := len(args) + 1
		for _, n := range ns {
			args = notificationValues(args, n)
		}
		q += `, n AS (` + insertNotifications + `SELECT * FROM (VALUES ` +
			valueRows(len(ns), notificationColumnCount, first, "bigint", "text", "text", "text", "text", "text", "bigint") +
			`) v WHERE EXISTS (SELECT 1 FROM u) RETURNING id)`
	}
	q += ` SELECT 'u', COUNT(*) FROM u`
	if delta != 0 {
		q += ` UNION ALL SELECT 'm', COUNT(*) FROM m`
	}
	if len(after.Outbox) > 0 {
		q += ` UNION ALL SELECT 'n', id FROM n`
	}

	// A seat moved: its check below may fail after the statement, and must roll the
	// rest back. Mails to schedule: the MailQueue writes in the transaction. Both are
	// rare on a reserve answer (a refusal, or mail over SMTP).
	if delta != 0 || len(after.Outbox) > 0 && s.mailQueue != nil {
		var updated bool
		err := s.tx(ctx, func(tx *sql.Tx) error {
			var err error
			updated, err = s.answerWritten(ctx, s.in(tx), tx, q, args, after)
			return err
		})
		return updated, err
	}
	if s.batchable(ctx, nil) {
		var a answerRows
		err := s.writePG(&pgWrite{ctx: ctx, query: q, args: args, read: func(rows pgx.Rows) error {
			a = answerRows{}
			return a.read(rows)
		}})
		if err != nil {
			return false, mapErr(err, "record the answer for booking "+after.Reference)
		}
		return s.answerChecked(ctx, nil, a, after)
	}
	return s.answerWritten(ctx, s.q(), nil, q, args, after)
}

// answerWritten runs recordReserveAnswerAtOnce's statement q through qr and checks
// what it wrote: whether the booking matched, its seat moved, and its mails' IDs,
// which it gives to the MailQueue in tx.
func (s *DB) answerWritten(ctx context.Context, qr querier, tx *sql.Tx, q string, args []any, after booking.Booking) (bool, error) {
	rows, err := qr.QueryContext(ctx, q, args...)
	if err != nil {
		return false, mapErr(err, "record the answer for booking "+after.Reference)
	}
	defer rows.Close()
	var a answerRows
	if err := a.read(rows); err != nil {
		return false, mapErr(err, "record the answer for booking "+after.Reference)
	}
	return s.answerChecked(ctx, tx, a, after)
}

// answerRows is what recordReserveAnswerAtOnce's statement returns: whether the
// booking matched, the seat's update (-1: none), and the mails' ids.
type answerRows struct {
	matched, seats int64
	ids            []int64
}

// read reads the statement's rows, from database/sql or from pgx.
func (a *answerRows) read(rows interface {
	Next() bool
	Scan(...any) error
	Err() error
}) error {
	a.seats = -1
	for rows.Next() {
		var what string
		var v int64
		if err := rows.Scan(&what, &v); err != nil {
			return err
		}
		switch what {
		case "u":
			a.matched = v
		case "m":
			a.seats = v
		case "n":
			a.ids = append(a.ids, v)
		}
	}
	return rows.Err()
}

// answerChecked checks the statement's outcome a, once it is written, and hands
// its mails to the outbox.
func (s *DB) answerChecked(ctx context.Context, tx *sql.Tx, a answerRows, after booking.Booking) (bool, error) {
	if a.matched != 1 {
		return false, nil // moved meanwhile: only the journal entries are written
	}
	if a.seats == 0 {
		return false, errs.E(errs.Conflict, "class %q has no seats left", after.ClassExternalID)
	}
	if len(after.Outbox) == 0 {
		return true, nil
	}
	return true, s.outboxAdded(ctx, tx, after.Outbox, a.ids)
}

// asStored sets b's times as a read of the booking returns them: UTC, to the
// millisecond.
func asStored(b *booking.Booking) {
	b.CreatedAt, b.UpdatedAt = fromMillis(millis(b.CreatedAt)), fromMillis(millis(b.UpdatedAt))
	for i := range b.Outbox {
		b.Outbox[i].CreatedAt = fromMillis(millis(b.Outbox[i].CreatedAt))
	}
}

// Bookings implements booking.Store.
func (s *DB) Bookings(ctx context.Context, f booking.Filter) ([]booking.Booking, error) {
	q, args := bookingsQuery(f)
	return queryAll(ctx, s, "list bookings", q, args, scanBooking)
}

// bookingsQuery is Bookings' query for f and its arguments.
func bookingsQuery(f booking.Filter) (string, []any) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + itoa(len(args))
	}
	if f.ClassID != 0 {
		where = append(where, "b.class_id = "+arg(f.ClassID))
	}
	if len(f.States) > 0 {
		ps := make([]string, len(f.States))
		for i, st := range f.States {
			ps[i] = stateTerm(st, arg)
		}
		where = append(where, "b.state IN ("+strings.Join(ps, ", ")+")")
	}
	if f.CleanupPending {
		where = append(where, "b.cleanup_pending")
	}
	if !f.CreatedBefore.IsZero() {
		where = append(where, "b.created_at < "+arg(millis(f.CreatedBefore)))
	}
	q := `SELECT ` + bookingColumns + bookingFrom
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY b.id"
	if f.Limit > 0 {
		q += " LIMIT " + arg(f.Limit)
	}
	return q, args
}

// stateTerm is st in a query: a literal when it is one of booking.States, so that the
// generic plan PostgreSQL keeps for the prepared statement still sees that a look-up
// of PENDING (AbandonStale) or ABANDONED bookings implies the condition of the partial
// bookings_state index (migration 00017) and reads the few through it; with a
// parameter only a plan made for the value could, and the generic one walks the
// table. Any other value is a parameter, added by arg.
func stateTerm(st booking.State, arg func(any) string) string {
	if slices.Contains(booking.States, st) {
		return "'" + string(st) + "'" // the states are capitals and underscores
	}
	return arg(string(st))
}

// BookingCounts returns the number of bookings in each state, for metrics.
func (s *DB) BookingCounts(ctx context.Context) (map[booking.State]int, error) {
	rows, err := s.q().QueryContext(ctx, `SELECT state, COUNT(*) FROM bookings GROUP BY state`)
	if err != nil {
		return nil, mapErr(err, "count bookings")
	}
	defer rows.Close()
	out := map[booking.State]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, mapErr(err, "count bookings")
		}
		out[booking.State(st)] = n
	}
	return out, mapErr(rows.Err(), "count bookings")
}
