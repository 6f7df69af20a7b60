-- A per-course version of its classes, bumped by the database in the same transaction
-- as every write to a class of the course (insert, update — seats taken or returned by
-- a booking included — and delete). Readers compare it with the version of an answer
-- they cached, so every instance sharing the database sees a change at once.
-- Triggers rather than code: no write path (catalogue, bookings, sweeps, hand edits)
-- can forget it.

-- +goose Up
ALTER TABLE courses ADD COLUMN classes_version BIGINT NOT NULL DEFAULT 0;

-- +goose StatementBegin
CREATE TRIGGER classes_version_insert AFTER INSERT ON classes BEGIN
    UPDATE courses SET classes_version = classes_version + 1 WHERE id = NEW.course_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER classes_version_update AFTER UPDATE ON classes BEGIN
    UPDATE courses SET classes_version = classes_version + 1 WHERE id IN (OLD.course_id, NEW.course_id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER classes_version_delete AFTER DELETE ON classes BEGIN
    UPDATE courses SET classes_version = classes_version + 1 WHERE id = OLD.course_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER classes_version_delete;
DROP TRIGGER classes_version_update;
DROP TRIGGER classes_version_insert;
ALTER TABLE courses DROP COLUMN classes_version;
