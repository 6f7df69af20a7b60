package store

import (
	"context"
	"database/sql"
)

// PGBatchesWaiting reports how many PostgreSQL batches (or lone writes) are being
// sent, and the sizes of the batches waiting for them, in order.
func (s *DB) PGBatchesWaiting() (sending int, sizes []int) {
	s.pgBatches.mu.Lock()
	defer s.pgBatches.mu.Unlock()
	for _, bt := range s.pgBatches.waiting {
		sizes = append(sizes, len(bt.writes))
	}
	return s.pgBatches.sending, sizes
}

// WithTx is withTx: ctx carrying tx, as ModifyClass's then receives it.
func (s *DB) WithTx(ctx context.Context, tx *sql.Tx) context.Context { return s.withTx(ctx, tx) }

// PGBatchInFlight is pgBatchInFlight.
const PGBatchInFlight = pgBatchInFlight

// PGBatchesSent reports how many batches of several writes were sent, and their writes.
func (s *DB) PGBatchesSent() (batches, writes int64) {
	return s.pgBatches.batches.Load(), s.pgBatches.batched.Load()
}
