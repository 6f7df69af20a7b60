package store

import (
	"context"
	"database/sql"

	"github.com/jackc/pgx/v5"

	"github.com/tportal/tportal/internal/catalog"
)

// Shared provider reads for PostgreSQL's course-provider API calls.
//
// Every API call reads its provider (and the course it names, with the course's
// classes version) from the database, so that a rotated password or a class written
// through another instance is seen at once. On PostgreSQL each such read was a
// statement of its own: a round trip and a backend's fixed cost per statement
// (~15–20 µs of the server's CPU for a bare SELECT 1 on this machine, ~40 µs for
// the provider-and-course statement), on the same cores as tportal.
//
// So these reads share statements as the bookings' token and class reads do
// (sharedReads, readbatch.go): at most sharedReadsRunning of them in flight, those
// arriving meanwhile sharing the next statement (providersSQL), each distinct username
// and course once. A read alone waits for nothing and runs the one-row statement as
// before; a read never joins a statement already running, so it sees every write
// committed before it began, through any instance.

// providerKey is one read: the provider with the username and, when withCourse,
// its course with the external id.
type providerKey struct {
	username   string
	course     string
	withCourse bool
}

// providerResult is a provider read's answer: the provider, and its course when the
// read asked for one and it exists.
type providerResult struct {
	p catalog.Provider
	c *catalog.Course
}

// readProviders sets the answers of several keys' reads with one statement,
// providersSQL.
func (s *DB) readProviders(ctx context.Context, keys []providerKey, answers []readAnswer[providerResult]) {
	users := make([]string, len(keys))
	courses := make([]*string, len(keys))
	for i, k := range keys {
		users[i] = k.username
		if k.withCourse {
			courses[i] = &keys[i].course
		}
	}
	found := make([]bool, len(keys))
	err := s.readRows(ctx, providersSQL, []any{users, courses}, func(rows pgx.Rows) error {
		var (
			i int64
			r providerRow
		)
		if err := rows.Scan(append([]any{&i}, r.dest()...)...); err != nil {
			return err
		}
		p, c := r.result()
		answers[i-1], found[i-1] = readAnswer[providerResult]{v: providerResult{p, c}}, true
		return nil
	})
	for i, k := range keys {
		switch {
		case err != nil:
			answers[i] = readAnswer[providerResult]{err: mapErr(err, "provider "+k.username)}
		case !found[i]:
			answers[i] = readAnswer[providerResult]{err: mapErr(sql.ErrNoRows, "provider "+k.username)}
		}
	}
}

// providersSQL reads several providers, each with the course named beside it (none
// for a NULL name), by the 1-based position of its username in $1 and its course's
// in $2. Each lookup is a LATERAL subquery with a LIMIT, which PostgreSQL runs per
// key through the unique indexes whatever its statistics say; the arrays come
// through sub-SELECTs, so that the plan does not depend on their values and stays
// the cached generic one (with the values in sight, PostgreSQL plans anew on every
// execution, which costs more than the statement).
var providersSQL = `SELECT k.i, p.id, p.name, p.username, p.password_hash, p.reserve_url, p.cancel_url, p.secret, p.created_at, p.courses_version,
		co.id, co.provider_id, co.external_id, co.name, co.description, co.created_at, co.version
	FROM unnest((SELECT $1::text[]), (SELECT $2::text[])) WITH ORDINALITY AS k(username, course, i)
	JOIN LATERAL (SELECT ` + providerColumns + ` FROM providers WHERE username = k.username LIMIT 1) p ON true
	LEFT JOIN LATERAL (SELECT co.id, co.provider_id, co.external_id, co.name, co.description, co.created_at, ` + classesVersionOf("co") + ` AS version
		FROM courses co WHERE co.provider_id = p.id AND co.external_id = k.course LIMIT 1) co ON true`
