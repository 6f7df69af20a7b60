-- Issue 11: fewer index entries written per booking. Every index of a table is one
-- more B-tree written by each insert or change of a row (and on SQLite one more page
-- in each commit's WAL frames):
--   - bookings_provider_reference held every booking, most with the empty reference
--     they are made with (the entry then moved when the reserve answer set the real
--     one). The one query it serves (ProviderBookings) asks for a non-empty
--     reference, and says so, so the index keeps only those.
--   - bookings_company_id held every booking, those of API tokens with a NULL
--     company; the staff list filters on company_id = $n, which implies NOT NULL.
--   - booking_events_at served no query: the history is read by booking_id.

-- +goose Up
DROP INDEX bookings_provider_reference;
CREATE INDEX bookings_provider_reference ON bookings (provider_reference) WHERE provider_reference <> '';
DROP INDEX bookings_company_id;
CREATE INDEX bookings_company_id ON bookings (company_id, id) WHERE company_id IS NOT NULL;
DROP INDEX booking_events_at;

-- +goose Down
CREATE INDEX booking_events_at ON booking_events (at);
DROP INDEX bookings_company_id;
CREATE INDEX bookings_company_id ON bookings (company_id, id);
DROP INDEX bookings_provider_reference;
CREATE INDEX bookings_provider_reference ON bookings (provider_reference);
