-- Issue 11: migration 00010 bumped courses.classes_version on every class write, so on
-- PostgreSQL each write to a class of a course (a booking's seat included) waited for
-- the previous one's commit on the course row's lock. Now a class write touches only
-- its own row: each class carries a version, set on every insert and update from one
-- sequence (nextval takes no lock that lasts to commit). Only a DELETE still bumps the
-- course's classes_version, by the deleted rows' versions plus one each.
--
-- The version of a course's classes, as the store reads it (classesVersionSQL in
-- internal/store/catalog.go), is
--     courses.classes_version + SUM(classes.version of the course, deleted_at set or not)
-- Every committed write adds a positive amount to it: an insert its new version, an
-- update new - old > 0 (nextval is above every value handed out before), a delete
-- one per row. Sums commute, so this holds in whatever order concurrent transactions
-- commit — unlike MAX(version), which a transaction that drew a lower version but
-- committed later would leave unchanged. The value read is therefore never seen
-- twice for different contents of the course's classes.

-- +goose Up
CREATE SEQUENCE class_versions;
ALTER TABLE classes ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
-- Lets the sum be read from the index alone.
CREATE INDEX classes_course_version ON classes (course_id, version);

DROP TRIGGER classes_version_insert ON classes;
DROP TRIGGER classes_version_update ON classes;

-- +goose StatementBegin
CREATE FUNCTION set_class_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := nextval('class_versions');
    -- A class moved to another course (only by hand) leaves its old course's sum:
    -- count it there as a delete.
    IF TG_OP = 'UPDATE' AND NEW.course_id <> OLD.course_id THEN
        UPDATE courses SET classes_version = classes_version + OLD.version + 1 WHERE id = OLD.course_id;
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER classes_version_set BEFORE INSERT OR UPDATE ON classes
    FOR EACH ROW EXECUTE FUNCTION set_class_version();

-- Still statement-level (see 00010): the course rows are locked after all class rows.
-- The classes_version_delete trigger of 00010 calls this function.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION bump_classes_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE courses co SET classes_version = co.classes_version + d.gone
    FROM (SELECT course_id, SUM(version + 1) AS gone FROM old_rows GROUP BY course_id) d
    WHERE co.id = d.course_id;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER classes_version_set ON classes;
DROP FUNCTION set_class_version();
DROP INDEX classes_course_version;
ALTER TABLE classes DROP COLUMN version;
DROP SEQUENCE class_versions;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION bump_classes_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE courses SET classes_version = classes_version + 1
        WHERE id IN (SELECT course_id FROM new_rows);
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE courses SET classes_version = classes_version + 1
        WHERE id IN (SELECT course_id FROM new_rows UNION SELECT course_id FROM old_rows);
    ELSE
        UPDATE courses SET classes_version = classes_version + 1
        WHERE id IN (SELECT course_id FROM old_rows);
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER classes_version_insert AFTER INSERT ON classes
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bump_classes_version();
CREATE TRIGGER classes_version_update AFTER UPDATE ON classes
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bump_classes_version();
