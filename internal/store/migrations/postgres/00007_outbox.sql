-- The notifications table becomes the portal's mail outbox: a message may belong to no
-- booking (account mails: password resets, invitations), may carry a calendar
-- attachment (.ics), and records its delivery attempts.

-- +goose Up
ALTER TABLE notifications ALTER COLUMN booking_id DROP NOT NULL;
ALTER TABLE notifications ADD COLUMN calendar   TEXT    NOT NULL DEFAULT '';
ALTER TABLE notifications ADD COLUMN attempts   INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN last_error TEXT    NOT NULL DEFAULT '';
CREATE INDEX notifications_booking_id ON notifications (booking_id);

-- +goose Down
DROP INDEX notifications_booking_id;
ALTER TABLE notifications DROP COLUMN last_error;
ALTER TABLE notifications DROP COLUMN attempts;
ALTER TABLE notifications DROP COLUMN calendar;
DELETE FROM notifications WHERE booking_id IS NULL;
ALTER TABLE notifications ALTER COLUMN booking_id SET NOT NULL;
