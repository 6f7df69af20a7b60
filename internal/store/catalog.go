package store

import (
	"context"
	"database/sql"
	"strings"

	"github.com/tportal/tportal/internal/catalog"
)

var _ catalog.Store = (*DB)(nil)

const providerColumns = `id, name, username, password_hash, reserve_url, cancel_url, secret, created_at, courses_version`

func scanProvider(row scanner) (catalog.Provider, error) {
	var p catalog.Provider
	var created int64
	err := row.Scan(&p.ID, &p.Name, &p.Username, &p.PasswordHash, &p.ReserveURL, &p.CancelURL, &p.Secret, &created, &p.CoursesVersion)
	p.CreatedAt = fromMillis(created)
	return p, err
}

// CreateProvider implements catalog.Store.
func (s *DB) CreateProvider(ctx context.Context, p *catalog.Provider) error {
	err := s.q().QueryRowContext(ctx, `
		INSERT INTO providers (name, username, password_hash, reserve_url, cancel_url, secret, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		p.Name, p.Username, p.PasswordHash, p.ReserveURL, p.CancelURL, p.Secret, millis(p.CreatedAt)).Scan(&p.ID)
	return mapErr(err, "provider "+p.Username)
}

// ProviderByUsername implements catalog.Store. On PostgreSQL, outside a
// transaction, it may share a statement with concurrent reads (providerReads).
func (s *DB) ProviderByUsername(ctx context.Context, username string) (catalog.Provider, error) {
	p, _, err := s.providerRead(ctx, providerKey{username: username})
	return p, err
}

// providerByUsernameSQL is ProviderByUsername's query, which authenticates every API
// call outside a course (readRow).
const providerByUsernameSQL = `SELECT ` + providerColumns + ` FROM providers WHERE username = $1`

// ProviderByID implements catalog.Store.
func (s *DB) ProviderByID(ctx context.Context, id int64) (catalog.Provider, error) {
	p, err := scanProvider(s.q().QueryRowContext(ctx, `SELECT `+providerColumns+` FROM providers WHERE id = $1`, id))
	return p, mapErr(err, "provider")
}

// Providers implements catalog.Store.
func (s *DB) Providers(ctx context.Context) ([]catalog.Provider, error) {
	return queryAll(ctx, s, "list providers", `SELECT `+providerColumns+` FROM providers ORDER BY username`, nil, scanProvider)
}

// ModifyProvider implements catalog.Store.
func (s *DB) ModifyProvider(ctx context.Context, username string, fn func(*catalog.Provider) error) (catalog.Provider, error) {
	var p catalog.Provider
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		p, err = scanProvider(s.in(tx).QueryRowContext(ctx, `SELECT `+providerColumns+` FROM providers WHERE username = $1`+s.dialect.forUpdate, username))
		if err != nil {
			return mapErr(err, "provider "+username)
		}
		if err := fn(&p); err != nil {
			return err
		}
		_, err = s.in(tx).ExecContext(ctx, `
			UPDATE providers SET name = $1, password_hash = $2, reserve_url = $3, cancel_url = $4, secret = $5
			WHERE id = $6`, p.Name, p.PasswordHash, p.ReserveURL, p.CancelURL, p.Secret, p.ID)
		return mapErr(err, "update provider "+username)
	})
	return p, err
}

// CreateCourse implements catalog.Store.
func (s *DB) CreateCourse(ctx context.Context, c *catalog.Course) error {
	err := s.q().QueryRowContext(ctx, `
		INSERT INTO courses (provider_id, external_id, name, description, created_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		c.ProviderID, c.ExternalID, c.Name, c.Description, millis(c.CreatedAt)).Scan(&c.ID)
	return mapErr(err, "course "+c.ExternalID)
}

// Courses implements catalog.Store.
func (s *DB) Courses(ctx context.Context, f catalog.CourseFilter) ([]catalog.Course, error) {
	var where []string
	var args []any
	if f.ID != nil {
		args = append(args, *f.ID)
		where = append(where, "id = $"+itoa(len(args)))
	}
	if f.ProviderID != nil {
		args = append(args, *f.ProviderID)
		where = append(where, "provider_id = $"+itoa(len(args)))
	}
	if f.ExternalID != nil {
		args = append(args, *f.ExternalID)
		where = append(where, "external_id = $"+itoa(len(args)))
	}
	q := `SELECT ` + courseColumns + ` FROM courses`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return queryAll(ctx, s, "list courses", q+" ORDER BY name, id", args, scanCourse)
}

var courseColumns = `id, provider_id, external_id, name, description, created_at, ` + classesVersionOf("courses")

// classesVersionOf is the one rule of what invalidates a cached answer built from a
// course's classes: the SQL expression of catalog.Course.ClassesVersion for the
// courses row named course. The database keeps its terms (migrations 00010, 00013,
// 00016): every committed insert, update or delete of one of the course's classes adds
// to courses.classes_version (SQLite, one writer) or to one of the course's
// class_version_shards rows (PostgreSQL, the writing connection's shard, so that
// writes to classes of one course do not queue on one row; once per transaction). A sum of increments
// changes with every commit, in whatever order concurrent transactions commit.
func classesVersionOf(course string) string {
	return course + `.classes_version + (SELECT CAST(COALESCE(SUM(cvs.n), 0) AS BIGINT) FROM class_version_shards cvs WHERE cvs.course_id = ` + course + `.id)`
}

func scanCourse(row scanner) (catalog.Course, error) {
	var c catalog.Course
	var created int64
	err := row.Scan(&c.ID, &c.ProviderID, &c.ExternalID, &c.Name, &c.Description, &created, &c.ClassesVersion)
	c.CreatedAt = fromMillis(created)
	return c, err
}

// ModifyCourse implements catalog.Store.
func (s *DB) ModifyCourse(ctx context.Context, id int64, fn func(c *catalog.Course, classes int) error) (catalog.Course, error) {
	var c catalog.Course
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		c, err = scanCourse(s.in(tx).QueryRowContext(ctx, `SELECT `+courseColumns+` FROM courses WHERE id = $1`+s.dialect.forUpdate, id))
		if err != nil {
			return mapErr(err, "course")
		}
		var classes int
		if err := s.in(tx).QueryRowContext(ctx, `SELECT COUNT(*) FROM classes WHERE course_id = $1`, id).Scan(&classes); err != nil {
			return mapErr(err, "count classes")
		}
		if err := fn(&c, classes); err != nil {
			return err
		}
		_, err = s.in(tx).ExecContext(ctx, `
			UPDATE courses SET provider_id = $1, external_id = $2, name = $3, description = $4
			WHERE id = $5`, c.ProviderID, c.ExternalID, c.Name, c.Description, c.ID)
		return mapErr(err, "course "+c.ExternalID)
	})
	return c, err
}

// providerWithCourseSQL is ProviderWithCourse's query, built once.
var providerWithCourseSQL = `SELECT p.id, p.name, p.username, p.password_hash, p.reserve_url, p.cancel_url, p.secret, p.created_at, p.courses_version,
		co.id, co.provider_id, co.external_id, co.name, co.description, co.created_at, ` + classesVersionOf("co") + `
	FROM providers p LEFT JOIN courses co ON co.provider_id = p.id AND co.external_id = $2
	WHERE p.username = $1`

// classesVersionSQL is ClassesVersion's query, built once.
var classesVersionSQL = `SELECT ` + classesVersionOf("courses") + ` FROM courses WHERE id = $1`

// ProviderWithCourse implements auth.CourseLookup: the provider with the username and
// its course with the external id (nil when the provider has none), in one query, so
// that an API call on a course pays one round trip for both — and still sees a
// rotated password or a removed provider at once. It is on every such call's path,
// so it runs through readRow, or on PostgreSQL outside a transaction may share a
// statement with concurrent reads (providerReads).
func (s *DB) ProviderWithCourse(ctx context.Context, username, externalCourseID string) (catalog.Provider, *catalog.Course, error) {
	return s.providerRead(ctx, providerKey{username: username, course: externalCourseID, withCourse: true})
}

// providerRead answers k, through providerReads on PostgreSQL outside a transaction.
func (s *DB) providerRead(ctx context.Context, k providerKey) (catalog.Provider, *catalog.Course, error) {
	var r providerResult
	var err error
	if s.dialect.name == "postgres" && s.joined(ctx) == nil {
		r, err = s.providerReads.read(ctx, k, s.readProvider, s.readProviders)
	} else {
		r, err = s.readProvider(ctx, k)
	}
	return r.p, r.c, err
}

// readProvider answers k with a one-row statement of its own (readRow).
func (s *DB) readProvider(ctx context.Context, k providerKey) (providerResult, error) {
	var r providerRow
	var err error
	if k.withCourse {
		err = s.readRow(ctx, providerWithCourseSQL, []any{k.username, k.course}, r.dest()...)
	} else {
		err = s.readRow(ctx, providerByUsernameSQL, []any{k.username}, r.dest()[:9]...)
	}
	if err != nil {
		return providerResult{}, mapErr(err, "provider "+k.username)
	}
	p, c := r.result()
	return providerResult{p, c}, nil
}

// providerRow is a provider's columns (providerColumns) and those of a course that
// may be missing, as the provider reads scan them.
type providerRow struct {
	p                catalog.Provider
	created          int64
	id, providerID   sql.NullInt64
	courseCreated    sql.NullInt64
	version          sql.NullInt64
	ext, name, descr sql.NullString
}

// dest is the scan destinations, the provider's nine columns first.
func (r *providerRow) dest() []any {
	return []any{&r.p.ID, &r.p.Name, &r.p.Username, &r.p.PasswordHash, &r.p.ReserveURL, &r.p.CancelURL, &r.p.Secret, &r.created, &r.p.CoursesVersion,
		&r.id, &r.providerID, &r.ext, &r.name, &r.descr, &r.courseCreated, &r.version}
}

// result is the provider and its course, nil when the row has none.
func (r *providerRow) result() (catalog.Provider, *catalog.Course) {
	p := r.p
	p.CreatedAt = fromMillis(r.created)
	if !r.id.Valid {
		return p, nil
	}
	return p, &catalog.Course{ID: r.id.Int64, ProviderID: r.providerID.Int64, ExternalID: r.ext.String, Name: r.name.String,
		Description: r.descr.String, CreatedAt: fromMillis(r.courseCreated.Int64), ClassesVersion: r.version.Int64}
}

// ClassesVersion implements catalog.ClassesVersioner: the course's version of its
// classes (see classesVersionOf): the course row and at most 64 shard rows, by
// primary key.
func (s *DB) ClassesVersion(ctx context.Context, courseID int64) (int64, error) {
	var v int64
	err := s.readRow(ctx, classesVersionSQL, []any{courseID}, &v)
	return v, mapErr(err, "course")
}
