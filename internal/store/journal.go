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
		booking_reference, http_status, latency_ms, outcome, success, error)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		millis(c.At), c.ProviderID, c.ProviderName, string(c.Kind), c.URL, c.BookingReference,
		c.HTTPStatus, c.Latency.Milliseconds(), string(c.Outcome), c.Success, c.Error)
	return mapErr(err, "record call")
}

// CallFilter selects journal entries; zero fields do not filter.
type CallFilter struct {
	ProviderID       int64
	BookingReference string
	Limit            int // default 50
}

// Calls lists journal entries, newest first.
func (s *DB) Calls(ctx context.Context, f CallFilter) ([]providercall.Call, error) {
	q := `SELECT at, provider_id, provider_name, kind, url, booking_reference, http_status, latency_ms,
		outcome, success, error FROM provider_calls WHERE 1 = 1`
	var args []any
	if f.ProviderID != 0 {
		args = append(args, f.ProviderID)
		q += " AND provider_id = $" + itoa(len(args))
	}
	if f.BookingReference != "" {
		args = append(args, f.BookingReference)
		q += " AND booking_reference = $" + itoa(len(args))
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	args = append(args, f.Limit)
	q += " ORDER BY id DESC LIMIT $" + itoa(len(args))
	return queryAll(ctx, s, "list calls", q, args, func(row scanner) (providercall.Call, error) {
		var c providercall.Call
		var at, latency int64
		var kind, outcome string
		err := row.Scan(&at, &c.ProviderID, &c.ProviderName, &kind, &c.URL, &c.BookingReference,
			&c.HTTPStatus, &latency, &outcome, &c.Success, &c.Error)
		c.At, c.Latency = fromMillis(at), time.Duration(latency)*time.Millisecond
		c.Kind, c.Outcome = providercall.Kind(kind), providercall.Outcome(outcome)
		return c, err
	})
}
