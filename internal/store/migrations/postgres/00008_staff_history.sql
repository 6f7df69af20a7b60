-- What the staff pages show: each call in the provider call journal keeps the request
-- sent (method, the parameters with personal data redacted like the URL) and the
-- answer (content type, the first 4 KiB of the body); and booking_events records
-- every change of a booking's state, written in the transaction that makes it, since
-- a provider's status update or an abandoned reservation leaves no other trace.

-- +goose Up
ALTER TABLE provider_calls ADD COLUMN request_method TEXT NOT NULL DEFAULT '';
ALTER TABLE provider_calls ADD COLUMN request_params TEXT NOT NULL DEFAULT '';
ALTER TABLE provider_calls ADD COLUMN answer_content_type TEXT NOT NULL DEFAULT '';
ALTER TABLE provider_calls ADD COLUMN answer_body TEXT NOT NULL DEFAULT '';
ALTER TABLE provider_calls ADD COLUMN answer_truncated BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX provider_calls_provider_id ON provider_calls (provider_id, id);
CREATE INDEX provider_calls_booking_reference ON provider_calls (booking_reference);

CREATE TABLE booking_events (
    id              BIGSERIAL PRIMARY KEY,
    booking_id      BIGINT  NOT NULL REFERENCES bookings (id),
    at              BIGINT  NOT NULL,
    from_state      TEXT    NOT NULL,
    to_state        TEXT    NOT NULL,
    message         TEXT    NOT NULL,
    completion_date TEXT    NOT NULL,
    cleanup_pending BOOLEAN NOT NULL
);
CREATE INDEX booking_events_booking_id ON booking_events (booking_id, id);
CREATE INDEX booking_events_at ON booking_events (at);

-- notifications_booking_id, which the history reads by, comes with 00007_outbox.sql.
CREATE INDEX bookings_created_at ON bookings (created_at);

-- +goose Down
DROP INDEX bookings_created_at;
DROP TABLE booking_events;
DROP INDEX provider_calls_booking_reference;
DROP INDEX provider_calls_provider_id;
ALTER TABLE provider_calls DROP COLUMN answer_truncated;
ALTER TABLE provider_calls DROP COLUMN answer_body;
ALTER TABLE provider_calls DROP COLUMN answer_content_type;
ALTER TABLE provider_calls DROP COLUMN request_params;
ALTER TABLE provider_calls DROP COLUMN request_method;
