package store

import (
	"context"
	"time"

	"github.com/tportal/tportal/internal/providercall"
)

var _ providercall.Journal = (*DB)(nil)

// RecordCall implements providercall.Journal.
func (s *DB) RecordCall(ctx context.Context, c providercall.Call) error {
	return s.recordCall(ctx, s.q(), c)
}

// recordCall writes a journal entry through q: alone, or in the transaction that
// records a reserve call's answer (RecordReserveAnswer).
func (s *DB) recordCall(ctx context.Context, q querier, c providercall.Call) error {
	_, err := q.ExecContext(ctx, `INSERT INTO provider_calls (at, provider_id, provider_name, kind, url,
		booking_reference, http_status, latency_ms, outcome, success, error,
		request_method, request_params, answer_content_type, answer_body, answer_truncated)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		millis(c.At), c.ProviderID, c.ProviderName, string(c.Kind), c.URL, c.BookingReference,
		c.HTTPStatus, c.Latency.Milliseconds(), string(c.Outcome), c.Success, c.Error,
		c.RequestMethod, c.RequestParams, c.AnswerContentType, c.AnswerBody, c.AnswerTruncated)
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
