-- Bookings and what hangs off them: notifications to enrollers, uploaded documents
-- (content stored once per SHA-256), the journal of calls to providers, and API tokens.

-- +goose Up
CREATE TABLE bookings (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    reference             TEXT    NOT NULL UNIQUE,
    class_id              BIGINT  NOT NULL REFERENCES classes (id),
    student_first_name    TEXT    NOT NULL DEFAULT '',
    student_last_name     TEXT    NOT NULL DEFAULT '',
    student_email         TEXT    NOT NULL DEFAULT '',
    student_phone         TEXT    NOT NULL DEFAULT '',
    student_birth_date    TEXT    NOT NULL DEFAULT '',
    enroller_first_name   TEXT    NOT NULL DEFAULT '',
    enroller_last_name    TEXT    NOT NULL DEFAULT '',
    enroller_email        TEXT    NOT NULL DEFAULT '',
    enroller_phone        TEXT    NOT NULL DEFAULT '',
    company               TEXT    NOT NULL DEFAULT '',
    comment               TEXT    NOT NULL DEFAULT '',
    purchase_order_number TEXT    NOT NULL DEFAULT '',
    state                 TEXT    NOT NULL CHECK (state IN ('PENDING', 'RESERVED', 'COMPLETED', 'NO_SHOW', 'FAILED', 'CANCELLED', 'REJECTED', 'ABANDONED')),
    provider_reference    TEXT    NOT NULL DEFAULT '',
    message               TEXT    NOT NULL DEFAULT '',
    completion_date       TEXT    NOT NULL DEFAULT '',
    cleanup_pending       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at            BIGINT  NOT NULL,
    updated_at            BIGINT  NOT NULL
);
CREATE INDEX bookings_class_id ON bookings (class_id);
CREATE INDEX bookings_cleanup_pending ON bookings (id) WHERE cleanup_pending;

CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    booking_id BIGINT NOT NULL REFERENCES bookings (id),
    kind       TEXT   NOT NULL,
    recipient  TEXT   NOT NULL,
    subject    TEXT   NOT NULL,
    body       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at    BIGINT
);
CREATE INDEX notifications_unsent ON notifications (id) WHERE sent_at IS NULL;

CREATE TABLE blobs (
    sha256  TEXT  PRIMARY KEY,
    content BLOB NOT NULL
);

CREATE TABLE documents (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    booking_id    BIGINT NOT NULL REFERENCES bookings (id),
    document_type TEXT   NOT NULL,
    file_name     TEXT   NOT NULL,
    content_type  TEXT   NOT NULL,
    size          BIGINT NOT NULL,
    sha256        TEXT   NOT NULL REFERENCES blobs (sha256),
    uploaded_at   BIGINT NOT NULL
);
CREATE INDEX documents_booking_id ON documents (booking_id);

CREATE TABLE provider_calls (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    at                BIGINT  NOT NULL,
    provider_id       BIGINT  NOT NULL,
    provider_name     TEXT    NOT NULL,
    kind              TEXT    NOT NULL,
    url               TEXT    NOT NULL,
    booking_reference TEXT    NOT NULL,
    http_status       INTEGER NOT NULL,
    latency_ms        BIGINT  NOT NULL,
    outcome           TEXT    NOT NULL,
    success           BOOLEAN NOT NULL,
    error             TEXT    NOT NULL
);
CREATE INDEX provider_calls_at ON provider_calls (at);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT   NOT NULL,
    token_hash   TEXT   NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL
);

-- +goose Down
DROP TABLE api_tokens;
DROP TABLE provider_calls;
DROP TABLE documents;
DROP TABLE blobs;
DROP TABLE notifications;
DROP TABLE bookings;
