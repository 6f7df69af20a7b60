-- The provider gateway's own tables, all prefixed gw_ so that the gateway can share a
-- database with the portal (or anything else) without collisions.

-- +goose Up
CREATE TABLE gw_courses (
    external_id TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE gw_classes (
    id                    BIGSERIAL PRIMARY KEY,
    course_id             TEXT NOT NULL REFERENCES gw_courses (external_id),
    external_id           TEXT NOT NULL,
    location              TEXT NOT NULL,
    seats                 INTEGER NOT NULL CHECK (seats >= 0),
    free_seats            INTEGER NOT NULL CHECK (free_seats >= 0 AND free_seats <= seats),
    start_date            TEXT NOT NULL,
    start_time            TEXT NOT NULL DEFAULT '',
    end_date              TEXT NOT NULL,
    end_time              TEXT NOT NULL DEFAULT '',
    time_zone             TEXT NOT NULL,
    enrollment_deadline   TEXT NOT NULL,
    cancellation_deadline TEXT NOT NULL,
    address_line1         TEXT NOT NULL,
    address_line2         TEXT NOT NULL DEFAULT '',
    city                  TEXT NOT NULL,
    zip_code              TEXT NOT NULL,
    country               TEXT NOT NULL,
    currency              TEXT NOT NULL,
    amount_minor          BIGINT NOT NULL CHECK (amount_minor >= 0),
    send_schedule_info    BOOLEAN NOT NULL,
    cancelled             BOOLEAN NOT NULL DEFAULT FALSE,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    UNIQUE (course_id, external_id)
);
CREATE INDEX gw_classes_external_id ON gw_classes (external_id);

-- id is the provider's booking reference; it starts at 1001 so that references are
-- four digits from the first, like the seed's example "1234".
CREATE TABLE gw_bookings (
    id                  BIGSERIAL PRIMARY KEY,
    portal_reference    TEXT NOT NULL UNIQUE,
    class_id            BIGINT NOT NULL REFERENCES gw_classes (id),
    status              TEXT NOT NULL,
    student_first_name  TEXT NOT NULL DEFAULT '',
    student_last_name   TEXT NOT NULL DEFAULT '',
    student_email       TEXT NOT NULL DEFAULT '',
    student_phone       TEXT NOT NULL DEFAULT '',
    student_birth_date  TEXT NOT NULL DEFAULT '',
    enroller_first_name TEXT NOT NULL DEFAULT '',
    enroller_last_name  TEXT NOT NULL DEFAULT '',
    enroller_email      TEXT NOT NULL DEFAULT '',
    enroller_phone      TEXT NOT NULL DEFAULT '',
    company             TEXT NOT NULL DEFAULT '',
    note                TEXT NOT NULL DEFAULT '',
    completion_date     TEXT NOT NULL DEFAULT '',
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX gw_bookings_class ON gw_bookings (class_id);
ALTER SEQUENCE gw_bookings_id_seq RESTART WITH 1001;

-- +goose Down
DROP TABLE gw_bookings;
DROP TABLE gw_classes;
DROP TABLE gw_courses;
