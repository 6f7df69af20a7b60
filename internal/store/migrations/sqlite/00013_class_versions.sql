-- Issue 11: the same scheme as the PostgreSQL file (read its comment): each class
-- carries a version set on every insert and update, a DELETE bumps the course's
-- classes_version by the deleted row's version plus one, and the store reads
--     courses.classes_version + SUM(classes.version of the course)
-- SQLite has one writer, so commits cannot overtake each other and the new version can
-- come from the course's own classes: one more than their largest (through the
-- index), which is above the row's old version. No row outside the class is written.
-- The WHEN clause keeps the trigger's own UPDATE from firing it again, should
-- recursive_triggers ever be turned on.

-- +goose Up
ALTER TABLE classes ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
CREATE INDEX classes_course_version ON classes (course_id, version);

DROP TRIGGER classes_version_insert;
DROP TRIGGER classes_version_update;
DROP TRIGGER classes_version_delete;

-- +goose StatementBegin
CREATE TRIGGER classes_version_insert AFTER INSERT ON classes BEGIN
    UPDATE classes SET version = (SELECT COALESCE(MAX(version), 0) + 1 FROM classes WHERE course_id = NEW.course_id)
    WHERE id = NEW.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER classes_version_update AFTER UPDATE ON classes WHEN NEW.version = OLD.version BEGIN
    UPDATE classes SET version = (SELECT COALESCE(MAX(version), 0) + 1 FROM classes WHERE course_id = NEW.course_id)
    WHERE id = NEW.id;
    -- A class moved to another course (only by hand) counts as deleted from the old one.
    UPDATE courses SET classes_version = classes_version + OLD.version + 1
    WHERE id = OLD.course_id AND OLD.course_id <> NEW.course_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER classes_version_delete AFTER DELETE ON classes BEGIN
    UPDATE courses SET classes_version = classes_version + OLD.version + 1 WHERE id = OLD.course_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER classes_version_delete;
DROP TRIGGER classes_version_update;
DROP TRIGGER classes_version_insert;
DROP INDEX classes_course_version;
ALTER TABLE classes DROP COLUMN version;

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
