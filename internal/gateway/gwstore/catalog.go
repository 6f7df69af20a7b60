package gwstore

import (
	"context"
	"database/sql"

	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/gateway"
)

// CreateCourse implements gateway.Store.
func (s *DB) CreateCourse(ctx context.Context, c gateway.Course) (gateway.Course, error) {
	_, err := s.db.ExecContext(ctx, `INSERT INTO gw_courses (external_id, name, created_at) VALUES ($1, $2, $3)`,
		c.ExternalID, c.Name, millis(c.CreatedAt))
	if err != nil {
		return gateway.Course{}, mapErr(err, "course "+c.ExternalID)
	}
	return s.Course(ctx, c.ExternalID)
}

const courseCols = `external_id, name, created_at`

func scanCourse(r scanner) (gateway.Course, error) {
	var c gateway.Course
	var created int64
	err := r.Scan(&c.ExternalID, &c.Name, &created)
	c.CreatedAt = fromMillis(created)
	return c, err
}

// Course implements gateway.Store.
func (s *DB) Course(ctx context.Context, externalID string) (gateway.Course, error) {
	c, err := scanCourse(s.db.QueryRowContext(ctx, `SELECT `+courseCols+` FROM gw_courses WHERE external_id = $1`, externalID))
	return c, mapErr(err, "course "+externalID)
}

// Courses implements gateway.Store.
func (s *DB) Courses(ctx context.Context) ([]gateway.Course, error) {
	return queryAll(ctx, s.db, "courses", `SELECT `+courseCols+` FROM gw_courses ORDER BY external_id`, nil, scanCourse)
}

// classCols are the columns scanClass reads, after the row id.
const classCols = `course_id, external_id, location, seats, free_seats, start_date, start_time, end_date, end_time,
	time_zone, enrollment_deadline, cancellation_deadline, address_line1, address_line2, city, zip_code, country,
	currency, amount_minor, send_schedule_info, cancelled, created_at, updated_at`

// classRow is a class with its row id, which bookings point at.
type classRow struct {
	id int64
	gateway.Class
}

func scanClass(r scanner) (classRow, error) {
	var c classRow
	var created, updated int64
	err := r.Scan(&c.id, &c.CourseID, &c.ID, &c.Location, &c.Seats, &c.FreeSeats,
		&c.StartDate, &c.StartTime, &c.EndDate, &c.EndTime, &c.TimeZone,
		&c.EnrollmentDeadline, &c.CancellationDeadline,
		&c.Address.Line1, &c.Address.Line2, &c.Address.City, &c.Address.ZipCode, &c.Address.Country,
		&c.Price.Currency, &c.Price.Minor, &c.SendScheduleInfo, &c.Cancelled, &created, &updated)
	c.CreatedAt, c.UpdatedAt = fromMillis(created), fromMillis(updated)
	return c, err
}

func classArgs(c gateway.Class) []any {
	return []any{c.CourseID, c.ID, c.Location, c.Seats, c.FreeSeats,
		c.StartDate, c.StartTime, c.EndDate, c.EndTime, c.TimeZone,
		c.EnrollmentDeadline, c.CancellationDeadline,
		c.Address.Line1, c.Address.Line2, c.Address.City, c.Address.ZipCode, c.Address.Country,
		c.Price.Currency, c.Price.Minor, c.SendScheduleInfo, c.Cancelled, millis(c.CreatedAt), millis(c.UpdatedAt)}
}

// CreateClass implements gateway.Store.
func (s *DB) CreateClass(ctx context.Context, c gateway.Class) (gateway.Class, error) {
	what := "class " + c.Key()
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.course(ctx, tx, c.CourseID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO gw_classes (`+classCols+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)`,
			classArgs(c)...)
		if err != nil {
			return mapErr(err, what)
		}
		return s.classChanged(ctx, tx, c.CourseID, c.ID)
	})
	if err != nil {
		return gateway.Class{}, err
	}
	return s.Class(ctx, c.CourseID, c.ID)
}

func (s *DB) course(ctx context.Context, q queryer, externalID string) (gateway.Course, error) {
	c, err := scanCourse(q.QueryRowContext(ctx, `SELECT `+courseCols+` FROM gw_courses WHERE external_id = $1`, externalID))
	return c, mapErr(err, "course "+externalID)
}

// classChanged reads the class as the transaction left it and tells the queue.
func (s *DB) classChanged(ctx context.Context, tx *sql.Tx, courseID, classID string) error {
	if s.queue == nil {
		return nil
	}
	c, err := s.class(ctx, tx, courseID, classID, "")
	if err != nil {
		return err
	}
	return s.queue.ClassChanged(ctx, tx, c.Class)
}

// qClassByKey reads one class by its keys (a hot query, see stmt.go).
const qClassByKey = `SELECT id, ` + classCols + ` FROM gw_classes WHERE course_id = $1 AND external_id = $2`

func (s *DB) class(ctx context.Context, q queryer, courseID, classID, lock string) (classRow, error) {
	c, err := scanClass(s.queryRow(ctx, q, qClassByKey+lock, courseID, classID))
	return c, mapErr(err, "class "+courseID+"/"+classID)
}

// ModifyClass implements gateway.Store.
func (s *DB) ModifyClass(ctx context.Context, courseID, classID string, fn func(*gateway.Class) error) (gateway.Class, error) {
	var out gateway.Class
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		c, err := s.class(ctx, tx, courseID, classID, s.dialect.forUpdate)
		if err != nil {
			return err
		}
		next := c.Class
		if err := fn(&next); err != nil {
			return err
		}
		// The keys and the creation time stay; fn may change the rest.
		next.CourseID, next.ID, next.CreatedAt = c.CourseID, c.ID, c.Class.CreatedAt
		_, err = tx.ExecContext(ctx, `UPDATE gw_classes SET location = $2, seats = $3, free_seats = $4,
			start_date = $5, start_time = $6, end_date = $7, end_time = $8, time_zone = $9,
			enrollment_deadline = $10, cancellation_deadline = $11,
			address_line1 = $12, address_line2 = $13, city = $14, zip_code = $15, country = $16,
			currency = $17, amount_minor = $18, send_schedule_info = $19, cancelled = $20, updated_at = $21
			WHERE id = $1`,
			c.id, next.Location, next.Seats, next.FreeSeats,
			next.StartDate, next.StartTime, next.EndDate, next.EndTime, next.TimeZone,
			next.EnrollmentDeadline, next.CancellationDeadline,
			next.Address.Line1, next.Address.Line2, next.Address.City, next.Address.ZipCode, next.Address.Country,
			next.Price.Currency, next.Price.Minor, next.SendScheduleInfo, next.Cancelled, millis(next.UpdatedAt))
		if err != nil {
			return mapErr(err, "class "+c.Key())
		}
		out = next
		if s.queue != nil {
			return s.queue.ClassChanged(ctx, tx, next)
		}
		return nil
	})
	return out, err
}

// Class implements gateway.Store.
func (s *DB) Class(ctx context.Context, courseID, classID string) (gateway.Class, error) {
	c, err := s.class(ctx, s.db, courseID, classID, "")
	return c.Class, err
}

// ClassesWithID implements gateway.Store.
func (s *DB) ClassesWithID(ctx context.Context, classID string) ([]gateway.Class, error) {
	return s.classes(ctx, `WHERE external_id = $1`, classID)
}

// Classes implements gateway.Store.
func (s *DB) Classes(ctx context.Context, courseID string) ([]gateway.Class, error) {
	if courseID == "" {
		return s.classes(ctx, "")
	}
	return s.classes(ctx, `WHERE course_id = $1`, courseID)
}

func (s *DB) classes(ctx context.Context, where string, args ...any) ([]gateway.Class, error) {
	rows, err := queryAll(ctx, s.db, "classes", `SELECT id, `+classCols+` FROM gw_classes `+where+`
		ORDER BY course_id, start_date, external_id`, args, scanClass)
	out := make([]gateway.Class, len(rows))
	for i, r := range rows {
		out[i] = r.Class
	}
	return out, err
}

// errSoldOut backs up the domain's check: the guarded UPDATE found no free seat.
func errSoldOut(c gateway.Class) error {
	return errs.E(errs.Conflict, "class %s is sold out", c.Key())
}
