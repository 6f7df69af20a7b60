package store

import (
	"context"
	"time"

	"github.com/tportal/tportal/internal/providercall"
)

var _ providercall.Journal = (*DB)(nil)

// RecordCall implements providercall.Journal.
func (s *DB) RecordCall(ctx context.Context, c providercall.Call) error {
	return s.recordCalls(ctx, s.q(), []providercall.Call{c})
}

// insertCalls starts the statement that writes journal entries; callValues makes its
// rows.
const insertCalls = `INSERT INTO provider_calls (at, provider_id, provider_name, kind, url,
		booking_reference, http_status, latency_ms, outcome, success, error,
		request_method, request_params, answer_content_type, answer_body, answer_truncated) VALUES `

// callColumnCount is the number of values of a row of insertCalls.
const callColumnCount = 16

// callValues appends the values of a journal entry's row, in insertCalls' order.
func callValues(args []any, c providercall.Call) []any {
	return append(args, millis(c.At), c.ProviderID, c.ProviderName, string(c.Kind), c.URL, c.BookingReference,
		c.HTTPStatus, c.Latency.Milliseconds(), string(c.Outcome), c.Success, c.Error,
		c.RequestMethod, c.RequestParams, c.AnswerContentType, c.AnswerBody, c.AnswerTruncated)
}

// recordCalls writes journal entries through q in one statement: alone, or in the
// transaction that records a reserve call's answer (RecordReserveAnswer).
func (s *DB) recordCalls(ctx context.Context, q querier, calls []providercall.Call) error {
	if len(calls) == 0 {
		return nil
	}
	args := make([]any, 0, len(calls)*callColumnCount)
	for _, c := range calls {
		args = callValues(args, c)
	}
	_, err := q.ExecContext(ctx, insertCalls+valueRows(len(calls), callColumnCount, 1), args...)
	return mapErr(err, "record call")
}

// CallFilter selects journal entries; zero fields do not filter.
type CallFilter = providercall.CallFilter

const callColumns = `id, at, provider_id, provider_name, kind, url, booking_reference, http_status, latency_ms,
	outcome, success, error, request_method, request_params, answer_content_type, answer_body, answer_truncated`

// Calls lists journal entries, newest first.
func (s *DB) Calls(ctx context.Context, f CallFilter) ([]providercall.Call, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + itoa(len(args))
	}
	if f.ProviderID != 0 {
		where = append(where, "provider_id = "+arg(f.ProviderID))
	}
	if f.BookingReference != "" {
		where = append(where, "booking_reference = "+arg(f.BookingReference))
	}
	if f.Kind != "" {
		where = append(where, "kind = "+arg(string(f.Kind)))
	}
	if f.Outcome != "" {
		where = append(where, "outcome = "+arg(string(f.Outcome)))
	}
	if !f.Since.IsZero() {
		where = append(where, "at >= "+arg(millis(f.Since)))
	}
	if f.BeforeID > 0 {
		where = append(where, "id < "+arg(f.BeforeID))
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	q := `SELECT ` + callColumns + ` FROM provider_calls` + whereClause(where) + " ORDER BY id DESC LIMIT " + arg(f.Limit)
	return queryAll(ctx, s, "list calls", q, args, scanCall)
}

// Call returns one journal entry; errs.NotFound when there is none with the id.
func (s *DB) Call(ctx context.Context, id int64) (providercall.Call, error) {
	c, err := scanCall(s.q().QueryRowContext(ctx, `SELECT `+callColumns+` FROM provider_calls WHERE id = $1`, id))
	return c, mapErr(err, "call")
}

func scanCall(row scanner) (providercall.Call, error) {
	var c providercall.Call
	var at, latency int64
	var kind, outcome string
	err := row.Scan(&c.ID, &at, &c.ProviderID, &c.ProviderName, &kind, &c.URL, &c.BookingReference,
		&c.HTTPStatus, &latency, &outcome, &c.Success, &c.Error,
		&c.RequestMethod, &c.RequestParams, &c.AnswerContentType, &c.AnswerBody, &c.AnswerTruncated)
	c.At, c.Latency = fromMillis(at), time.Duration(latency)*time.Millisecond
	c.Kind, c.Outcome = providercall.Kind(kind), providercall.Outcome(outcome)
	return c, err
}
