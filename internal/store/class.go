package store

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
)

const classColumns = `cl.id, cl.course_id, co.external_id, co.provider_id, cl.external_id, cl.location, cl.available_seats,
	cl.enrollment_deadline, cl.cancellation_deadline, cl.start_date, cl.start_time, cl.end_date, cl.end_time,
	cl.time_zone, cl.address_line1, cl.address_line2, cl.city, cl.zip_code, cl.country,
	cl.currency, cl.amount_minor, cl.send_schedule_info, cl.cancelled_at, cl.created_at, cl.updated_at`

const classFrom = ` FROM classes cl JOIN courses co ON co.id = cl.course_id `

func scanClass(row scanner) (catalog.Class, error) {
	var (
		c                                  catalog.Class
		enroll, cancel, startDate, endDate string
		startTime, endTime                 sql.NullString
		cancelled                          sql.NullInt64
		created, updated                   int64
	)
	err := row.Scan(&c.ID, &c.CourseID, &c.CourseExternalID, &c.ProviderID, &c.ExternalID, &c.Location, &c.AvailableSeats,
		&enroll, &cancel, &startDate, &startTime, &endDate, &endTime,
		&c.TimeZone, &c.Address.Line1, &c.Address.Line2, &c.Address.City, &c.Address.ZipCode, &c.Address.Country,
		&c.Price.Currency, &c.Price.Minor, &c.SendScheduleInfo, &cancelled, &created, &updated)
	if err != nil {
		return c, err
	}
	// The values were validated before they were written; a parse failure here means
	// someone edited the database by hand, which the error surfaces.
	for _, d := range []struct {
		s   string
		dst *catalog.Date
	}{{enroll, &c.EnrollmentDeadline}, {cancel, &c.CancellationDeadline}, {startDate, &c.StartDate}, {endDate, &c.EndDate}} {
		if *d.dst, err = catalog.ParseDate(d.s); err != nil {
			return c, err
		}
	}
	for _, t := range []struct {
		s   sql.NullString
		dst **catalog.TimeOfDay
	}{{startTime, &c.StartTime}, {endTime, &c.EndTime}} {
		if !t.s.Valid {
			continue
		}
		v, err := catalog.ParseTimeOfDay(t.s.String)
		if err != nil {
			return c, err
		}
		*t.dst = &v
	}
	c.CancelledAt = timePtr(cancelled)
	c.CreatedAt, c.UpdatedAt = fromMillis(created), fromMillis(updated)
	return c, nil
}

func nullClock(t *catalog.TimeOfDay) sql.NullString {
	if t == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: t.String(), Valid: true}
}

// CreateClass implements catalog.Store. On SQLite the INSERT joins the group commit
// (groupcommit.go) like every other write: on its own it would be a transaction and a
// commit of its own, and would wait for the group's write lock in SQLite's busy
// handler (issue 11). On PostgreSQL it stays one statement, one round trip.
func (s *DB) CreateClass(ctx context.Context, c *catalog.Class) error {
	const insertClass = `
		INSERT INTO classes (course_id, external_id, location, available_seats,
			enrollment_deadline, cancellation_deadline, start_date, start_time, end_date, end_time, time_zone,
			starts_at, enrollment_closes_at, cancellation_closes_at,
			address_line1, address_line2, city, zip_code, country, currency, amount_minor,
			send_schedule_info, cancelled_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)
		RETURNING id`
	args := []any{c.CourseID, c.ExternalID, c.Location, c.AvailableSeats,
		c.EnrollmentDeadline.String(), c.CancellationDeadline.String(), c.StartDate.String(), nullClock(c.StartTime),
		c.EndDate.String(), nullClock(c.EndTime), c.TimeZone,
		millis(c.StartsAt()), millis(c.EnrollmentClosesAt()), millis(c.CancellationClosesAt()),
		c.Address.Line1, c.Address.Line2, c.Address.City, c.Address.ZipCode, c.Address.Country,
		c.Price.Currency, c.Price.Minor, c.SendScheduleInfo, nullMillis(c.CancelledAt),
		millis(c.CreatedAt), millis(c.UpdatedAt)}
	var err error
	switch {
	case s.dialect.name == "sqlite":
		err = s.tx(ctx, func(tx *sql.Tx) error { return s.in(tx).QueryRowContext(ctx, insertClass, args...).Scan(&c.ID) })
	case s.batchable(ctx, nil):
		var id int64
		err = s.writePG(&pgWrite{ctx: ctx, query: insertClass, args: args, read: func(rows pgx.Rows) error {
			if !rows.Next() {
				return sql.ErrNoRows
			}
			return rows.Scan(&id)
		}})
		if err == nil {
			c.ID = id
		}
	default:
		err = s.q().QueryRowContext(ctx, insertClass, args...).Scan(&c.ID)
	}
	if err != nil {
		return mapErr(err, "class "+c.ExternalID)
	}
	s.classes.put(*c) // see classMemo: a provider often changes what it just added
	return nil
}

// Classes implements catalog.Store.
func (s *DB) Classes(ctx context.Context, courseID int64) ([]catalog.Class, error) {
	return queryAll(ctx, s, "list classes", `SELECT `+classColumns+classFrom+`
		WHERE cl.course_id = $1 AND cl.deleted_at IS NULL ORDER BY cl.starts_at, cl.external_id`, []any{courseID}, scanClass)
}

// ModifyClass implements catalog.Store. then runs in the class's transaction with a
// context that carries it (withTx), so the store calls it makes (the bookings of the
// class, the outbox) join that transaction: the class change and its mails commit or
// roll back together.
//
// On PostgreSQL, without then there is nothing else to commit with the change, so it
// is written optimistically (modifyClassOnce): a read and one conditional UPDATE,
// each its own statement, instead of BEGIN, a locking read, the UPDATE and COMMIT:
// half the round trips, and no row lock to write (issue 11). SQLite keeps the
// transaction: it runs in-process, so a BEGIN costs no round trip, and its writes
// queue in one place (the group commit, groupcommit.go).
//
// On both, without then, it first tries fn on the class as this process last read or
// wrote it (modifyRemembered), which spares the read while nobody else changed the
// class: on PostgreSQL one round trip instead of two, on SQLite about a quarter of
// the store's time (BenchmarkModifyClassSeats).
func (s *DB) ModifyClass(ctx context.Context, courseID int64, externalID string, fn func(*catalog.Class) error,
	then func(context.Context, catalog.Class) error) (catalog.Class, error) {
	pg := s.dialect.name == "postgres"
	if then == nil && pg && s.joined(ctx) == nil {
		if c, written, err := s.modifyRemembered(ctx, nil, courseID, externalID, fn); written || err != nil {
			return c, err
		}
		for range optimisticTries {
			c, written, err := s.modifyClassOnce(ctx, courseID, externalID, fn)
			if err != nil || written {
				return c, err
			}
		}
		// The class keeps changing under us: wait for its lock instead.
	}
	var c catalog.Class
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if then == nil && !pg {
			g, written, err := s.modifyRemembered(ctx, tx, courseID, externalID, fn)
			if written || err != nil {
				c = g
				return err
			}
		}
		var err error
		c, err = scanClass(s.in(tx).QueryRowContext(ctx, liveClassSQL+s.lockClause("cl"), courseID, externalID))
		if err != nil {
			return mapErr(err, "class "+externalID)
		}
		if err := fn(&c); err != nil {
			return err
		}
		if err := s.writeClass(ctx, tx, &c); err != nil || then == nil {
			return err
		}
		return then(s.withTx(ctx, tx), c)
	})
	if err == nil && c.CourseID == courseID && c.ExternalID == externalID {
		s.classes.put(c)
	}
	return c, err
}

// modifyRemembered tries fn on the class as this process last read or wrote it
// (classMemo), most often the row as it still is, and writes the outcome with one
// conditional UPDATE in tx (nil: on its own): then the read is not needed. written is
// false, with no error, when there was nothing remembered, when the row changed since
// (nothing was written), or when fn refused the remembered class: its error may not
// hold for the stored row, so the caller reads the row and calls fn again.
func (s *DB) modifyRemembered(ctx context.Context, tx *sql.Tx, courseID int64, externalID string,
	fn func(*catalog.Class) error) (catalog.Class, bool, error) {
	g, ok := s.classes.get(courseID, externalID)
	if !ok {
		return g, false, nil
	}
	refused := false
	c, written, err := s.writeIfUnchanged(ctx, tx, g, func(c *catalog.Class) error {
		err := fn(c)
		refused = err != nil
		return err
	})
	if written {
		return c, true, nil
	}
	s.classes.drop(courseID, externalID)
	if refused {
		err = nil
	}
	return c, false, err
}

// liveClassSQL reads the live class of course $1 with external id $2.
const liveClassSQL = `SELECT ` + classColumns + classFrom + `WHERE cl.course_id = $1 AND cl.external_id = $2 AND cl.deleted_at IS NULL`

// optimisticTries is how many times ModifyClass tries a change without a lock before
// it takes the class's row lock: a class that changed between the read and the write
// is read again, and only one written to by others all the time waits for the lock.
const optimisticTries = 4

// modifyClassOnce reads the class without a lock, lets fn change it, and writes the
// change only if the row still holds what was read (classUnchanged), in one statement:
// the outcome is then the one fn would have had holding the lock at the write.
// written is false when the class changed meanwhile (a booking took a seat, another
// update came first, the sweep deleted it) and nothing was written.
func (s *DB) modifyClassOnce(ctx context.Context, courseID int64, externalID string, fn func(*catalog.Class) error) (c catalog.Class, written bool, err error) {
	c, err = scanClass(s.q().QueryRowContext(ctx, liveClassSQL, courseID, externalID))
	if err != nil {
		return c, false, mapErr(err, "class "+externalID)
	}
	return s.writeIfUnchanged(ctx, nil, c, fn)
}

// writeIfUnchanged lets fn change c, a class as read (or as remembered, classMemo),
// and writes the change only if the row still holds c's values, in one statement in
// tx (nil: on its own). written is false when it did not; a written class is
// remembered as stored.
func (s *DB) writeIfUnchanged(ctx context.Context, tx *sql.Tx, c catalog.Class, fn func(*catalog.Class) error) (catalog.Class, bool, error) {
	read := classReadArgs(&c) // before fn, which may change what c points to
	id, courseID, externalID := c.ID, c.CourseID, c.ExternalID
	if err := fn(&c); err != nil {
		return c, false, err
	}
	n, err := s.execClassWrite(ctx, tx, c.ID, updateClassSQL+classUnchanged, append(classArgs(&c), read...))
	if err != nil {
		return c, false, mapErr(err, "update class "+c.ExternalID)
	}
	// The UPDATE writes neither the class's id nor its keys: were they changed by fn,
	// c would not be the stored row.
	if n == 1 && c.ID == id && c.CourseID == courseID && c.ExternalID == externalID {
		s.classes.put(c)
	}
	return c, n == 1, nil
}

// execClassWrite runs a write statement in tx, or on PostgreSQL outside a
// transaction in a batch shared with this process's other such writes (writePG),
// and returns how many rows it wrote. It writes class id's row.
func (s *DB) execClassWrite(ctx context.Context, tx *sql.Tx, id int64, query string, args []any) (int64, error) {
	if s.batchable(ctx, tx) {
		w := &pgWrite{ctx: ctx, query: query, args: args, key: id, read: drainRows}
		err := s.writePG(w)
		return w.affected, err
	}
	res, err := s.in(tx).ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// updateClassSQL writes a class's changeable columns ($1–$22, classArgs) to the row
// with id $23.
const updateClassSQL = `
		UPDATE classes SET location = $1, available_seats = $2,
			enrollment_deadline = $3, cancellation_deadline = $4, start_date = $5, start_time = $6,
			end_date = $7, end_time = $8, time_zone = $9,
			starts_at = $10, enrollment_closes_at = $11, cancellation_closes_at = $12,
			address_line1 = $13, address_line2 = $14, city = $15, zip_code = $16, country = $17,
			currency = $18, amount_minor = $19, send_schedule_info = $20, cancelled_at = $21, updated_at = $22
		WHERE id = $23`

// classUnchanged extends updateClassSQL's WHERE: the row is still live, in the same
// course, and holds every value scanClass read ($24–$44, classReadArgs), so fn saw
// what the write replaces. Nullable columns compare through COALESCE, which both
// databases have (an empty time and a negative instant are never stored).
const classUnchanged = ` AND deleted_at IS NULL AND course_id = $24 AND external_id = $25 AND location = $26
		AND available_seats = $27 AND enrollment_deadline = $28 AND cancellation_deadline = $29 AND start_date = $30
		AND COALESCE(start_time, '') = COALESCE($31, '') AND end_date = $32 AND COALESCE(end_time, '') = COALESCE($33, '')
		AND time_zone = $34 AND address_line1 = $35 AND address_line2 = $36 AND city = $37 AND zip_code = $38
		AND country = $39 AND currency = $40 AND amount_minor = $41 AND send_schedule_info = $42
		AND COALESCE(cancelled_at, -1) = COALESCE($43, CAST(-1 AS BIGINT)) AND updated_at = $44`

// classArgs are updateClassSQL's arguments for c.
func classArgs(c *catalog.Class) []any {
	return []any{c.Location, c.AvailableSeats,
		c.EnrollmentDeadline.String(), c.CancellationDeadline.String(), c.StartDate.String(), nullClock(c.StartTime),
		c.EndDate.String(), nullClock(c.EndTime), c.TimeZone,
		millis(c.StartsAt()), millis(c.EnrollmentClosesAt()), millis(c.CancellationClosesAt()),
		c.Address.Line1, c.Address.Line2, c.Address.City, c.Address.ZipCode, c.Address.Country,
		c.Price.Currency, c.Price.Minor, c.SendScheduleInfo, nullMillis(c.CancelledAt), millis(c.UpdatedAt), c.ID}
}

// classReadArgs are classUnchanged's arguments: the class as read.
func classReadArgs(c *catalog.Class) []any {
	return []any{c.CourseID, c.ExternalID, c.Location, c.AvailableSeats,
		c.EnrollmentDeadline.String(), c.CancellationDeadline.String(), c.StartDate.String(), nullClock(c.StartTime),
		c.EndDate.String(), nullClock(c.EndTime), c.TimeZone,
		c.Address.Line1, c.Address.Line2, c.Address.City, c.Address.ZipCode, c.Address.Country,
		c.Price.Currency, c.Price.Minor, c.SendScheduleInfo, nullMillis(c.CancelledAt), millis(c.UpdatedAt)}
}

// txKey is the context key of the transaction a store call joins.
type txKey struct{ s *DB }

// withTx returns ctx carrying tx: the queries and outbox writes this DB makes with it
// run in tx instead of on their own. Only the store puts a transaction in a context,
// and only for callbacks that run inside it (ModifyClass's then).
func (s *DB) withTx(ctx context.Context, tx *sql.Tx) context.Context {
	return context.WithValue(ctx, txKey{s}, tx)
}

// joined returns the transaction ctx carries for this DB, nil when none.
func (s *DB) joined(ctx context.Context) *sql.Tx {
	tx, _ := ctx.Value(txKey{s}).(*sql.Tx)
	return tx
}

// lockClause locks the rows of one table of a join (PostgreSQL); SQLite's immediate
// transactions already hold the write lock.
func (s *DB) lockClause(table string) string {
	if s.dialect.forUpdate == "" {
		return ""
	}
	return s.dialect.forUpdate + " OF " + table
}

func (s *DB) writeClass(ctx context.Context, tx *sql.Tx, c *catalog.Class) error {
	res, err := s.in(tx).ExecContext(ctx, updateClassSQL, classArgs(c)...)
	if err != nil {
		return mapErr(err, "update class "+c.ExternalID)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errs.E(errs.NotFound, "class %q: not found", c.ExternalID)
	}
	return nil
}

// DeleteClassIfUnbooked implements catalog.Store. A class never booked has nothing to
// keep, so its row goes; the booking engine marks a class ever_booked in the same
// transaction that takes its first seat.
func (s *DB) DeleteClassIfUnbooked(ctx context.Context, classID int64) (bool, error) {
	res, err := s.q().ExecContext(ctx, `DELETE FROM classes WHERE id = $1 AND NOT ever_booked`, classID)
	if err != nil {
		return false, mapErr(err, "delete class")
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func itoa(n int) string { return strconv.Itoa(n) }

// DeleteCancelledClasses deletes the classes cancelled before the given instant: their
// rows stay for their bookings' records, but they are gone from the API and their
// external ids are free again. It returns how many it deleted. It runs every few
// seconds on every instance and nearly always finds nothing, so it first looks with a
// read (through the classes_cancelled_live index), which on SQLite takes no write
// lock; only when there is something to delete does it write.
// sweepDue selects the live classes cancelled before $1; its terms are those of the
// classes_cancelled_live index's WHERE, so that both databases can use it.
const sweepDue = `deleted_at IS NULL AND cancelled_at IS NOT NULL AND cancelled_at < $1`

func (s *DB) DeleteCancelledClasses(ctx context.Context, cancelledBefore, now time.Time) (int, error) {
	var found bool
	if err := s.q().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM classes WHERE `+sweepDue+`)`, millis(cancelledBefore)).Scan(&found); err != nil {
		return 0, mapErr(err, "look for cancelled classes")
	}
	if !found {
		return 0, nil
	}
	res, err := s.q().ExecContext(ctx, `UPDATE classes SET deleted_at = $2 WHERE `+sweepDue, millis(cancelledBefore), millis(now))
	if err != nil {
		return 0, mapErr(err, "delete cancelled classes")
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
