package store

import (
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
)

// The notifications table is the portal's mail outbox: every e-mail is a row, written
// in the transaction of the change that causes it (booking changes, class changes),
// and marked sent once delivered.

// MailQueue is told, inside the transaction that adds messages to the outbox, the IDs
// of the new messages, so that it can schedule their delivery in that same
// transaction (jobs.Runner.EnqueueMailTx). An error rolls the change back.
type MailQueue func(ctx context.Context, tx *sql.Tx, ids []int64) error

// SetMailQueue sets the MailQueue; nil (the default) leaves new messages in the outbox
// unscheduled, for staff to read. Set it before the store is used.
func (s *DB) SetMailQueue(q MailQueue) { s.mailQueue = q }

// CourseByID implements booking.Store.
func (s *DB) CourseByID(ctx context.Context, id int64) (catalog.Course, error) {
	var c catalog.Course
	var created int64
	err := s.q().QueryRowContext(ctx, `SELECT id, provider_id, external_id, name, description, created_at
		FROM courses WHERE id = $1`, id).Scan(&c.ID, &c.ProviderID, &c.ExternalID, &c.Name, &c.Description, &created)
	c.CreatedAt = fromMillis(created)
	return c, mapErr(err, "course")
}

// CreateNotifications implements booking.Store. Called with a context that carries a
// transaction (a class change's, ModifyClass), it adds the messages in it.
func (s *DB) CreateNotifications(ctx context.Context, ns []booking.Notification) error {
	if tx := s.joined(ctx); tx != nil {
		return s.addToOutbox(ctx, tx, ns)
	}
	return s.tx(ctx, func(tx *sql.Tx) error { return s.addToOutbox(ctx, tx, ns) })
}

// insertNotifications starts the statement that adds messages to the outbox, before
// its rows (VALUES or SELECT); notificationValues makes a row.
const insertNotifications = `INSERT INTO notifications (booking_id, kind, recipient, subject, body, calendar, created_at) `

// notificationColumnCount is the number of values of a row of insertNotifications.
const notificationColumnCount = 7

// notificationValues appends the values of a message's row, in insertNotifications' order.
func notificationValues(args []any, n booking.Notification) []any {
	return append(args, sql.NullInt64{Int64: n.BookingID, Valid: n.BookingID != 0}, n.Kind, n.To, n.Subject, n.Body,
		n.Calendar, millis(n.CreatedAt))
}

// addToOutbox inserts ns in tx with one statement, sets their IDs, and hands the IDs
// to the MailQueue.
func (s *DB) addToOutbox(ctx context.Context, tx *sql.Tx, ns []booking.Notification) error {
	if len(ns) == 0 {
		return nil
	}
	args := make([]any, 0, len(ns)*notificationColumnCount)
	for _, n := range ns {
		args = notificationValues(args, n)
	}
	if s.dialect.name == "sqlite" {
		ids, err := s.insertOutboxSQLite(ctx, tx, args, len(ns))
		if err != nil {
			return err
		}
		return s.outboxAdded(ctx, tx, ns, ids)
	}
	ids, err := scanIDs(s.in(tx).QueryContext(ctx, insertNotifications+`VALUES `+
		valueRows(len(ns), notificationColumnCount, 1)+` RETURNING id`, args...))
	if err != nil {
		return mapErr(err, "notification")
	}
	return s.outboxAdded(ctx, tx, ns, ids)
}

// insertOutboxSQLite runs addToOutbox's INSERT of n rows (their values args) as an
// Exec, not a query with RETURNING: database/sql starts a goroutine for every query's
// rows in a transaction, which on SQLite runs under the group commit's turn. The IDs
// are the n ending with the statement's LastInsertId: SQLite gives a row without an
// explicit id the largest id of the table plus one, and the rows of one INSERT are
// inserted one after another while it holds the database's write lock, so they get
// consecutive ids (the exception, a table whose largest id is 2^63-1, cannot occur
// with ids counted from 1).
func (s *DB) insertOutboxSQLite(ctx context.Context, tx *sql.Tx, args []any, n int) ([]int64, error) {
	res, err := s.in(tx).ExecContext(ctx, insertNotifications+`VALUES `+valueRows(n, notificationColumnCount, 1), args...)
	if err != nil {
		return nil, mapErr(err, "notification")
	}
	last, err := res.LastInsertId()
	if err != nil {
		return nil, mapErr(err, "notification")
	}
	if rows, err := res.RowsAffected(); err != nil || rows != int64(n) {
		return nil, errs.E(errs.Internal, "store: %d messages added to the outbox, %d rows inserted (%v)", n, rows, err)
	}
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = last - int64(n-1-i)
	}
	return ids, nil
}

// outboxAdded gives ns the IDs ids that one multi-row INSERT returned, and hands
// them to the MailQueue. Neither database promises the order of RETURNING rows, but
// both number the rows of one INSERT in the order of its VALUES, so the IDs in
// increasing order are those of ns in order.
func (s *DB) outboxAdded(ctx context.Context, tx *sql.Tx, ns []booking.Notification, ids []int64) error {
	if len(ids) != len(ns) {
		return errs.E(errs.Internal, "store: %d messages added to the outbox, %d IDs returned", len(ns), len(ids))
	}
	slices.Sort(ids)
	for i := range ns {
		ns[i].ID = ids[i]
	}
	if s.mailQueue == nil {
		return nil
	}
	return s.mailQueue(ctx, tx, ids)
}

// scanIDs reads the single id column of rows, as QueryContext returned them.
func scanIDs(rows *sql.Rows, err error) ([]int64, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

const notificationColumns = `id, booking_id, kind, recipient, subject, body, calendar, attempts, last_error, created_at, sent_at`

func scanNotification(row scanner) (booking.Notification, error) {
	var n booking.Notification
	var bookingID, sent sql.NullInt64
	var created int64
	err := row.Scan(&n.ID, &bookingID, &n.Kind, &n.To, &n.Subject, &n.Body, &n.Calendar, &n.Attempts, &n.LastError, &created, &sent)
	n.BookingID, n.CreatedAt, n.SentAt = bookingID.Int64, fromMillis(created), timePtr(sent)
	return n, err
}

// Notifications lists the outbox messages of a booking, oldest first.
func (s *DB) Notifications(ctx context.Context, bookingID int64) ([]booking.Notification, error) {
	return queryAll(ctx, s, "list notifications", `SELECT `+notificationColumns+`
		FROM notifications WHERE booking_id = $1 ORDER BY id`, []any{bookingID}, scanNotification)
}

// Notification returns one outbox message; errs.NotFound when there is none.
func (s *DB) Notification(ctx context.Context, id int64) (booking.Notification, error) {
	n, err := scanNotification(s.q().QueryRowContext(ctx, `SELECT `+notificationColumns+` FROM notifications WHERE id = $1`, id))
	return n, mapErr(err, "notification")
}

// UnsentNotifications returns the IDs of messages not yet sent that have failed
// fewer than maxAttempts times, oldest first, at most limit: the ones a restarted
// or newly configured sender still has to deliver.
func (s *DB) UnsentNotifications(ctx context.Context, maxAttempts, limit int) ([]int64, error) {
	return queryAll(ctx, s, "list unsent notifications", `SELECT id FROM notifications
		WHERE sent_at IS NULL AND attempts < $1 ORDER BY id LIMIT $2`, []any{maxAttempts, limit},
		func(row scanner) (int64, error) {
			var id int64
			return id, row.Scan(&id)
		})
}

// MarkNotificationSent records that a message was delivered at.
func (s *DB) MarkNotificationSent(ctx context.Context, id int64, at time.Time) error {
	_, err := s.q().ExecContext(ctx, `UPDATE notifications SET sent_at = $1, last_error = '' WHERE id = $2`, millis(at), id)
	return mapErr(err, "mark notification sent")
}

// RecordNotificationFailure counts a failed delivery attempt and keeps its reason.
func (s *DB) RecordNotificationFailure(ctx context.Context, id int64, reason string) error {
	_, err := s.q().ExecContext(ctx, `UPDATE notifications SET attempts = attempts + 1, last_error = $1 WHERE id = $2`, reason, id)
	return mapErr(err, "record notification failure")
}
