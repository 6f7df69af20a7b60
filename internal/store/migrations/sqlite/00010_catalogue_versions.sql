-- A per-course version of its classes, bumped by the database in the same transaction
-- as every write to a class of the course (insert, update — seats taken or returned by
-- a booking included — and delete). Readers compare it with the version of an answer
-- they cached, so every instance sharing the database sees a change at once.
-- Likewise a per-provider version of its courses' own fields, for getCourses.
-- Triggers rather than code: no write path (catalogue, bookings, sweeps, hand edits)
-- can forget it.

-- +goose Up
ALTER TABLE courses ADD COLUMN classes_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE providers ADD COLUMN courses_version BIGINT NOT NULL DEFAULT 0;

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

-- +goose StatementBegin
CREATE TRIGGER courses_version_insert AFTER INSERT ON courses BEGIN
    UPDATE providers SET courses_version = courses_version + 1 WHERE id = NEW.provider_id;
END;
-- +goose StatementEnd

-- Only the fields getCourses answers: a class write bumps classes_version, not this.
-- +goose StatementBegin
CREATE TRIGGER courses_version_update AFTER UPDATE OF provider_id, external_id, name, description ON courses BEGIN
    UPDATE providers SET courses_version = courses_version + 1 WHERE id IN (OLD.provider_id, NEW.provider_id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER courses_version_delete AFTER DELETE ON courses BEGIN
    UPDATE providers SET courses_version = courses_version + 1 WHERE id = OLD.provider_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER courses_version_delete;
DROP TRIGGER courses_version_update;
DROP TRIGGER courses_version_insert;
DROP TRIGGER classes_version_delete;
DROP TRIGGER classes_version_update;
DROP TRIGGER classes_version_insert;
ALTER TABLE providers DROP COLUMN courses_version;
ALTER TABLE courses DROP COLUMN classes_version;
