package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/providercall"
)

// This file holds the reads of the staff pages: the booking search, a booking's
// history (booking_events), the notifications list and the dashboard's sums.

func whereClause(where []string) string {
	if len(where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(where, " AND ")
}

// likeEscaper makes text match itself in a LIKE pattern with ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// searchColumns are the text columns Search.Text looks in. Names match whole ("Ola
// Hansen") as well as first or last name alone.
var searchColumns = []string{
	"b.reference", "b.provider_reference", "b.company",
	"b.student_first_name || ' ' || b.student_last_name", "b.student_email",
	"b.enroller_first_name || ' ' || b.enroller_last_name", "b.enroller_email",
}

// SearchBookings finds bookings for staff, newest first. The text matches with
// LOWER(...) LIKE, which folds every letter on PostgreSQL but only ASCII ones on
// SQLite (there "Ø" finds "Ø" but not "ø").
func (s *DB) SearchBookings(ctx context.Context, q booking.Search) ([]booking.Found, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + itoa(len(args))
	}
	if t := strings.TrimSpace(q.Text); t != "" {
		p := arg("%" + likeEscaper.Replace(strings.ToLower(t)) + "%")
		ors := make([]string, len(searchColumns))
		for i, c := range searchColumns {
			ors[i] = "LOWER(" + c + ") LIKE " + p + ` ESCAPE '\'`
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}
	if q.ProviderID != 0 {
		where = append(where, "co.provider_id = "+arg(q.ProviderID))
	}
	if q.CourseID != 0 {
		where = append(where, "cl.course_id = "+arg(q.CourseID))
	}
	if len(q.States) > 0 {
		ps := make([]string, len(q.States))
		for i, st := range q.States {
			ps[i] = arg(string(st))
		}
		where = append(where, "b.state IN ("+strings.Join(ps, ", ")+")")
	}
	if !q.CreatedFrom.IsZero() {
		where = append(where, "b.created_at >= "+arg(millis(q.CreatedFrom)))
	}
	if !q.CreatedTo.IsZero() {
		where = append(where, "b.created_at < "+arg(millis(q.CreatedTo)))
	}
	if q.BeforeID > 0 {
		where = append(where, "b.id < "+arg(q.BeforeID))
	}
	if q.Limit <= 0 {
		q.Limit = booking.DefaultListLimit
	}
	sql := `SELECT ` + bookingColumns + `, co.name, p.name` + bookingFrom + `JOIN providers p ON p.id = co.provider_id` +
		whereClause(where) + ` ORDER BY b.id DESC LIMIT ` + arg(q.Limit)
	return queryAll(ctx, s, "search bookings", sql, args, func(row scanner) (booking.Found, error) {
		var f booking.Found
		var err error
		f.Booking, err = scanBooking(extraScanner{row, []any{&f.CourseName, &f.ProviderName}})
		return f, err
	})
}

// extraScanner scans a row whose leading columns another scan function reads, and
// the trailing ones into extra.
type extraScanner struct {
	row   scanner
	extra []any
}

func (e extraScanner) Scan(dest ...any) error { return e.row.Scan(append(dest, e.extra...)...) }

// recordEvent writes a booking_events row when ModifyBooking changed what the
// history shows, inside its transaction: the change and its record commit together.
func (s *DB) recordEvent(ctx context.Context, tx *sql.Tx, before, after booking.Booking) error {
	args, ok := eventValues(nil, before, after)
	if !ok {
		return nil
	}
	_, err := s.in(tx).ExecContext(ctx, insertEventRow, args...)
	return mapErr(err, "record booking event")
}

// insertEvent starts the statement that writes a booking's history event, before its
// rows (VALUES or SELECT); eventValues makes a row.
const insertEvent = `INSERT INTO booking_events (booking_id, at, from_state, to_state, message,
		completion_date, cleanup_pending) `

// eventColumnCount is the number of values of a row of insertEvent.
const eventColumnCount = 7

// insertEventRow writes one history event.
var insertEventRow = insertEvent + `VALUES ` + valueRows(1, eventColumnCount, 1)

// eventValues appends the values of the history event of a change from before to
// after, in insertEvent's order; ok is false when the change leaves alone what the
// history shows, and then there is no event. The time is the booking's new
// UpdatedAt, or now when the change left it alone.
func eventValues(args []any, before, after booking.Booking) (_ []any, ok bool) {
	if before.State == after.State && before.CompletionDate == after.CompletionDate &&
		before.Message == after.Message && before.CleanupPending == after.CleanupPending {
		return args, false
	}
	at := after.UpdatedAt
	if at.Equal(before.UpdatedAt) {
		at = time.Now()
	}
	return append(args, after.ID, millis(at), string(before.State), string(after.State), after.Message,
		after.CompletionDate, after.CleanupPending), true
}

// BookingEvents returns the recorded changes of a booking, oldest first.
func (s *DB) BookingEvents(ctx context.Context, bookingID int64) ([]booking.Event, error) {
	return queryAll(ctx, s, "booking events", `SELECT id, booking_id, at, from_state, to_state, message, completion_date,
		cleanup_pending FROM booking_events WHERE booking_id = $1 ORDER BY id`, []any{bookingID},
		func(row scanner) (booking.Event, error) {
			var e booking.Event
			var at int64
			var from, to string
			err := row.Scan(&e.ID, &e.BookingID, &at, &from, &to, &e.Message, &e.CompletionDate, &e.CleanupPending)
			e.At, e.From, e.To = fromMillis(at), booking.State(from), booking.State(to)
			return e, err
		})
}

// ListNotifications lists the outbox for staff, newest first: booking and account
// mails, with their delivery status.
func (s *DB) ListNotifications(ctx context.Context, f booking.NotificationFilter) ([]booking.ListedNotification, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + itoa(len(args))
	}
	if r := strings.TrimSpace(f.Recipient); r != "" {
		where = append(where, "LOWER(n.recipient) LIKE "+arg("%"+likeEscaper.Replace(strings.ToLower(r))+"%")+` ESCAPE '\'`)
	}
	if f.Kind != "" {
		where = append(where, "n.kind = "+arg(f.Kind))
	}
	if f.Unsent {
		where = append(where, "n.sent_at IS NULL")
	}
	if f.BeforeID > 0 {
		where = append(where, "n.id < "+arg(f.BeforeID))
	}
	if f.Limit <= 0 {
		f.Limit = booking.DefaultListLimit
	}
	// Account mails have no booking; they are in the outbox too.
	q := `SELECT n.id, n.booking_id, n.kind, n.recipient, n.subject, n.body, n.calendar, n.attempts, n.last_error,
		n.created_at, n.sent_at, COALESCE(b.reference, '')
		FROM notifications n LEFT JOIN bookings b ON b.id = n.booking_id` + whereClause(where) + ` ORDER BY n.id DESC LIMIT ` + arg(f.Limit)
	return queryAll(ctx, s, "list notifications", q, args, func(row scanner) (booking.ListedNotification, error) {
		var n booking.ListedNotification
		var created int64
		var bookingID, sent sql.NullInt64
		err := row.Scan(&n.ID, &bookingID, &n.Kind, &n.To, &n.Subject, &n.Body, &n.Calendar, &n.Attempts, &n.LastError,
			&created, &sent, &n.BookingReference)
		n.BookingID, n.CreatedAt, n.SentAt = bookingID.Int64, fromMillis(created), timePtr(sent)
		return n, err
	})
}

// NotificationKinds lists the kinds of notification there are, for the filter.
func (s *DB) NotificationKinds(ctx context.Context) ([]string, error) {
	return queryAll(ctx, s, "notification kinds", `SELECT DISTINCT kind FROM notifications ORDER BY kind`, nil,
		func(row scanner) (string, error) {
			var k string
			return k, row.Scan(&k)
		})
}

// BookingStates counts the bookings made since the time by their state now.
func (s *DB) BookingStates(ctx context.Context, since time.Time) (map[booking.State]int, error) {
	counts, err := queryAll(ctx, s, "count recent bookings", `SELECT state, COUNT(*) FROM bookings WHERE created_at >= $1 GROUP BY state`,
		[]any{millis(since)}, func(row scanner) (struct {
			st string
			n  int
		}, error) {
			var c struct {
				st string
				n  int
			}
			return c, row.Scan(&c.st, &c.n)
		})
	out := map[booking.State]int{}
	for _, c := range counts {
		out[booking.State(c.st)] = c.n
	}
	return out, err
}

// CallTimes sums up the journal's calls since the time per provider. It reads one
// narrow row per call, which for a day of calls is well within a page's budget; the
// percentiles are computed in Go the same way for both databases.
func (s *DB) CallTimes(ctx context.Context, since time.Time) ([]providercall.ProviderTimes, error) {
	calls, err := queryAll(ctx, s, "call times", `SELECT provider_id, provider_name, latency_ms, outcome
		FROM provider_calls WHERE at >= $1`, []any{millis(since)}, func(row scanner) (providercall.Call, error) {
		var c providercall.Call
		var latency int64
		var outcome string
		err := row.Scan(&c.ProviderID, &c.ProviderName, &latency, &outcome)
		c.Latency, c.Outcome = time.Duration(latency)*time.Millisecond, providercall.Outcome(outcome)
		return c, err
	})
	if err != nil {
		return nil, err
	}
	return providercall.SummarizeTimes(calls), nil
}
