-- The notifications table becomes the portal's mail outbox: a message may belong to no
-- booking (account mails: password resets, invitations), may carry a calendar
-- attachment (.ics), and records its delivery attempts. SQLite cannot drop NOT NULL
-- from a column, so the table is rebuilt.

-- +goose Up
CREATE TABLE notifications_new (
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
INSERT INTO notifications_new (id, booking_id, kind, recipient, subject, body, created_at, sent_at)
    SELECT id, booking_id, kind, recipient, subject, body, created_at, sent_at FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE INDEX notifications_unsent ON notifications (id) WHERE sent_at IS NULL;
CREATE INDEX notifications_booking_id ON notifications (booking_id);

-- +goose Down
DELETE FROM notifications WHERE booking_id IS NULL;
CREATE TABLE notifications_old (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    booking_id BIGINT NOT NULL REFERENCES bookings (id),
    kind       TEXT   NOT NULL,
    recipient  TEXT   NOT NULL,
    subject    TEXT   NOT NULL,
    body       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at    BIGINT
);
INSERT INTO notifications_old (id, booking_id, kind, recipient, subject, body, created_at, sent_at)
    SELECT id, booking_id, kind, recipient, subject, body, created_at, sent_at FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_old RENAME TO notifications;
CREATE INDEX notifications_unsent ON notifications (id) WHERE sent_at IS NULL;
