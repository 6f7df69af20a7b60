-- A booking request may carry an idempotency key, so that a client retrying after a
-- lost answer gets the booking it made instead of a second one.

-- +goose Up
ALTER TABLE bookings ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX bookings_idempotency_key ON bookings (idempotency_key) WHERE idempotency_key IS NOT NULL;

-- +goose Down
DROP INDEX bookings_idempotency_key;
ALTER TABLE bookings DROP COLUMN idempotency_key;
