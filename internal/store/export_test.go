package store

// SweepDue is sweepDue, for the test that checks the sweep's query plan.
const SweepDue = sweepDue

// ProviderBookingsQuery is ProviderBookings' query, for the test of its plan.
const ProviderBookingsQuery = providerBookings

// CheckpointRuns is how many WAL checkpoints the store's Checkpointer ran (SQLite).
func (s *DB) CheckpointRuns() int64 { return s.checkpoints.Runs() }
