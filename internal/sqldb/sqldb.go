// Package sqldb holds what both of tportal's stores — the portal's (internal/store)
// and the provider gateway's (internal/gateway/gwstore) — need from database/sql on
// SQLite and PostgreSQL alike: driver errors turned into errs codes at the storage
// boundary, and database URLs made safe to log. It knows no tables of either side.
package sqldb

import (
	"database/sql"
	"errors"
	"net/url"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/tportal/tportal/internal/errs"
)

// MapErr turns a driver error into an errs code: unique violations become Conflict,
// no rows NotFound, everything else Internal with the cause kept for the log. An
// error that already carries a code is returned as it is. what names the thing for
// the message; pkg prefixes internal errors ("store", "gwstore").
func MapErr(err error, pkg, what string) error {
	if err == nil {
		return nil
	}
	var e *errs.Error
	if errors.As(err, &e) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return errs.E(errs.NotFound, "%s: not found", what)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return &errs.Error{Code: errs.Conflict, Message: what + ": already exists", Err: err}
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return &errs.Error{Code: errs.Conflict, Message: what + ": already exists", Err: err}
		}
	}
	return errs.Wrap(err, "%s: %s", pkg, what)
}

// Redact removes the password from a database URL so it can be logged.
func Redact(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil || u.User == nil {
		return dbURL
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
