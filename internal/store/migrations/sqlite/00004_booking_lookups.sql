-- A provider looks its bookings up by its own reference (the one its reserve answer
-- gave), and an unknown reference is answered "retry" while one of its reservations
-- is PENDING: both look-ups need an index. The state index is a plain one, as the
-- queries bind the state as a parameter, which a partial index could not serve.

-- +goose Up
CREATE INDEX bookings_provider_reference ON bookings (provider_reference);
CREATE INDEX bookings_state ON bookings (state);

-- +goose Down
DROP INDEX bookings_state;
DROP INDEX bookings_provider_reference;
