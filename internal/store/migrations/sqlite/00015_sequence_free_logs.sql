-- Issue 11: the append-only tables every booking writes to — the journal
-- (provider_calls), the history (booking_events) and the outbox (notifications) — lose
-- AUTOINCREMENT. With it, each INSERT also reads and rewrites the table's row in
-- sqlite_sequence, one more B-tree per write under the single writer's lock. Without
-- it, SQLite gives a new row the largest id plus one, which is the same id as long as
-- the newest row is never deleted; no row of these tables is ever deleted (the store
-- has no DELETE on them), so no id is reused, and links to them by id (the journal's
-- pages, the mail jobs' notification ids) keep meaning one row. A future DELETE on
-- one of them must keep the newest row, or bring AUTOINCREMENT back.
-- bookings keeps AUTOINCREMENT: other tables refer to it, and rebuilding it would
-- need foreign keys off, which a migration's transaction cannot do.
-- SQLite cannot drop AUTOINCREMENT from a table, so each is rebuilt with its rows
-- and ids; DROP TABLE takes its sqlite_sequence row with it.

-- +goose Up
CREATE TABLE provider_calls_new (
    id                  INTEGER PRIMARY KEY,
    at                  BIGINT  NOT NULL,
    provider_id         BIGINT  NOT NULL,
    provider_name       TEXT    NOT NULL,
    kind                TEXT    NOT NULL,
    url                 TEXT    NOT NULL,
    booking_reference   TEXT    NOT NULL,
    http_status         INTEGER NOT NULL,
    latency_ms          BIGINT  NOT NULL,
    outcome             TEXT    NOT NULL,
    success             BOOLEAN NOT NULL,
    error               TEXT    NOT NULL,
    request_method      TEXT    NOT NULL DEFAULT '',
    request_params      TEXT    NOT NULL DEFAULT '',
    answer_content_type TEXT    NOT NULL DEFAULT '',
    answer_body         TEXT    NOT NULL DEFAULT '',
    answer_truncated    BOOLEAN NOT NULL DEFAULT FALSE
);
INSERT INTO provider_calls_new SELECT id, at, provider_id, provider_name, kind, url, booking_reference,
    http_status, latency_ms, outcome, success, error, request_method, request_params, answer_content_type,
    answer_body, answer_truncated FROM provider_calls;
DROP TABLE provider_calls;
ALTER TABLE provider_calls_new RENAME TO provider_calls;
CREATE INDEX provider_calls_at ON provider_calls (at);
CREATE INDEX provider_calls_provider_id ON provider_calls (provider_id, id);
CREATE INDEX provider_calls_booking_reference ON provider_calls (booking_reference);

CREATE TABLE booking_events_new (
    id              INTEGER PRIMARY KEY,
    booking_id      BIGINT  NOT NULL REFERENCES bookings (id),
    at              BIGINT  NOT NULL,
    from_state      TEXT    NOT NULL,
    to_state        TEXT    NOT NULL,
    message         TEXT    NOT NULL,
    completion_date TEXT    NOT NULL,
    cleanup_pending BOOLEAN NOT NULL
);
INSERT INTO booking_events_new SELECT id, booking_id, at, from_state, to_state, message, completion_date,
    cleanup_pending FROM booking_events;
DROP TABLE booking_events;
ALTER TABLE booking_events_new RENAME TO booking_events;
CREATE INDEX booking_events_booking_id ON booking_events (booking_id, id);

CREATE TABLE notifications_new (
    id         INTEGER PRIMARY KEY,
    booking_id BIGINT REFERENCES bookings (id),
    kind       TEXT    NOT NULL,
    recipient  TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    calendar   TEXT    NOT NULL DEFAULT '', -- iCalendar text of an invitation, '' when none
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT    NOT NULL DEFAULT '',
    created_at BIGINT  NOT NULL,
    sent_at    BIGINT
);
INSERT INTO notifications_new SELECT id, booking_id, kind, recipient, subject, body, calendar, attempts,
    last_error, created_at, sent_at FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE INDEX notifications_unsent ON notifications (id) WHERE sent_at IS NULL;
CREATE INDEX notifications_booking_id ON notifications (booking_id);

-- +goose Down
CREATE TABLE provider_calls_old (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    at                  BIGINT  NOT NULL,
    provider_id         BIGINT  NOT NULL,
    provider_name       TEXT    NOT NULL,
    kind                TEXT    NOT NULL,
    url                 TEXT    NOT NULL,
    booking_reference   TEXT    NOT NULL,
    http_status         INTEGER NOT NULL,
    latency_ms          BIGINT  NOT NULL,
    outcome             TEXT    NOT NULL,
    success             BOOLEAN NOT NULL,
    error               TEXT    NOT NULL,
    request_method      TEXT    NOT NULL DEFAULT '',
    request_params      TEXT    NOT NULL DEFAULT '',
    answer_content_type TEXT    NOT NULL DEFAULT '',
    answer_body         TEXT    NOT NULL DEFAULT '',
    answer_truncated    BOOLEAN NOT NULL DEFAULT FALSE
);
INSERT INTO provider_calls_old SELECT id, at, provider_id, provider_name, kind, url, booking_reference,
    http_status, latency_ms, outcome, success, error, request_method, request_params, answer_content_type,
    answer_body, answer_truncated FROM provider_calls;
DROP TABLE provider_calls;
ALTER TABLE provider_calls_old RENAME TO provider_calls;
CREATE INDEX provider_calls_at ON provider_calls (at);
CREATE INDEX provider_calls_provider_id ON provider_calls (provider_id, id);
CREATE INDEX provider_calls_booking_reference ON provider_calls (booking_reference);

CREATE TABLE booking_events_old (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    booking_id      BIGINT  NOT NULL REFERENCES bookings (id),
    at              BIGINT  NOT NULL,
    from_state      TEXT    NOT NULL,
    to_state        TEXT    NOT NULL,
    message         TEXT    NOT NULL,
    completion_date TEXT    NOT NULL,
    cleanup_pending BOOLEAN NOT NULL
);
INSERT INTO booking_events_old SELECT id, booking_id, at, from_state, to_state, message, completion_date,
    cleanup_pending FROM booking_events;
DROP TABLE booking_events;
ALTER TABLE booking_events_old RENAME TO booking_events;
CREATE INDEX booking_events_booking_id ON booking_events (booking_id, id);

CREATE TABLE notifications_old (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    booking_id BIGINT REFERENCES bookings (id),
    kind       TEXT    NOT NULL,
    recipient  TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    calendar   TEXT    NOT NULL DEFAULT '', -- iCalendar text of an invitation, '' when none
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT    NOT NULL DEFAULT '',
    created_at BIGINT  NOT NULL,
    sent_at    BIGINT
);
INSERT INTO notifications_old SELECT id, booking_id, kind, recipient, subject, body, calendar, attempts,
    last_error, created_at, sent_at FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_old RENAME TO notifications;
CREATE INDEX notifications_unsent ON notifications (id) WHERE sent_at IS NULL;
CREATE INDEX notifications_booking_id ON notifications (booking_id);
