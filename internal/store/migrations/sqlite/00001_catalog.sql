-- Providers, courses and classes. Instants are BIGINT milliseconds since the Unix epoch
-- (UTC) in both dialects, so the SQL that compares them is the same everywhere.

-- +goose Up
CREATE TABLE providers (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT   NOT NULL,
    username      TEXT   NOT NULL UNIQUE,
    password_hash TEXT   NOT NULL,
    reserve_url   TEXT   NOT NULL DEFAULT '',
    cancel_url    TEXT   NOT NULL DEFAULT '',
    secret        TEXT   NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL
);

CREATE TABLE courses (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    provider_id BIGINT NOT NULL REFERENCES providers (id),
    external_id TEXT   NOT NULL,
    name        TEXT   NOT NULL,
    description TEXT   NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    UNIQUE (provider_id, external_id)
);
CREATE INDEX courses_external_id ON courses (external_id);

CREATE TABLE classes (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    course_id              BIGINT  NOT NULL REFERENCES courses (id),
    external_id            TEXT    NOT NULL,
    location               TEXT    NOT NULL,
    available_seats        INTEGER NOT NULL CHECK (available_seats >= 0),
    enrollment_deadline    TEXT    NOT NULL,
    cancellation_deadline  TEXT    NOT NULL,
    start_date             TEXT    NOT NULL,
    start_time             TEXT,
    end_date               TEXT    NOT NULL,
    end_time               TEXT,
    time_zone              TEXT    NOT NULL,
    starts_at              BIGINT  NOT NULL,
    enrollment_closes_at   BIGINT  NOT NULL,
    cancellation_closes_at BIGINT  NOT NULL,
    address_line1          TEXT    NOT NULL,
    address_line2          TEXT    NOT NULL DEFAULT '',
    city                   TEXT    NOT NULL,
    zip_code               TEXT    NOT NULL,
    country                TEXT    NOT NULL,
    currency               TEXT    NOT NULL,
    amount_minor           BIGINT  NOT NULL CHECK (amount_minor >= 0),
    send_schedule_info     BOOLEAN NOT NULL DEFAULT TRUE,
    ever_booked            BOOLEAN NOT NULL DEFAULT FALSE,
    cancelled_at           BIGINT,
    deleted_at             BIGINT,
    created_at             BIGINT  NOT NULL,
    updated_at             BIGINT  NOT NULL
);
-- A deleted class frees its external id for a new class; its row stays for its bookings.
CREATE UNIQUE INDEX classes_live_external_id ON classes (course_id, external_id) WHERE deleted_at IS NULL;
CREATE INDEX classes_starts_at ON classes (starts_at) WHERE deleted_at IS NULL;

-- +goose Down
DROP TABLE classes;
DROP TABLE courses;
DROP TABLE providers;
