-- Issue 11: fewer index entries written per provider answer.
--   - bookings_state held every booking, and each answer's change of state wrote a new
--     entry for it (the row is not HOT-updated: its provider_reference changes too).
--     Its look-ups are for the few bookings in the other states (PENDING: the sweep's
--     AbandonStale, HasPendingBooking; a staff list of FAILED ones), never for the
--     RESERVED and COMPLETED ones, most of the table, which a list finds faster by
--     id. So the index keeps only the others, and an answer that reserves writes no
--     entry. A query uses it only when its condition implies the index's: the pending
--     look-ups name their states as literals (booking.go, stateTerm), so that the
--     generic plan of their prepared statements can too
--     (TestPendingLookupsUseTheStateIndex).
--   - provider_calls_at: the journal is appended to in time order and read by time
--     only for recent ranges (CallTimes, the journal's "since"), which a BRIN index
--     (a summary per block range, a few pages for millions of calls) serves; an
--     insert writes nothing to it until its range is summarised, where the B-tree
--     wrote an entry per call. autosummarize has autovacuum summarise a range once
--     the table has grown past it, so a read by time scans at most the last range
--     (128 pages) besides the matching ones; until the first range after the
--     migration is full, each insert still updates that range's summary.

-- +goose Up
DROP INDEX bookings_state;
CREATE INDEX bookings_state ON bookings (state) WHERE state NOT IN ('RESERVED', 'COMPLETED');
DROP INDEX provider_calls_at;
CREATE INDEX provider_calls_at ON provider_calls USING brin (at) WITH (autosummarize = on);

-- +goose Down
DROP INDEX provider_calls_at;
CREATE INDEX provider_calls_at ON provider_calls (at);
DROP INDEX bookings_state;
CREATE INDEX bookings_state ON bookings (state);
