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

-- Statement-level, so that a statement's course rows are locked after all its class
-- rows: the sweep, which updates many classes in one statement, then never holds a
-- course's row while waiting for a class row a booking holds (a deadlock).
-- (PostgreSQL allows transition tables only on single-event triggers: three triggers.)
-- +goose StatementBegin
CREATE FUNCTION bump_classes_version() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER classes_version_delete AFTER DELETE ON classes
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION bump_classes_version();

-- +goose StatementBegin
CREATE FUNCTION bump_courses_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE providers SET courses_version = courses_version + 1 WHERE id = OLD.provider_id;
    END IF;
    IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.provider_id <> OLD.provider_id) THEN
        UPDATE providers SET courses_version = courses_version + 1 WHERE id = NEW.provider_id;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- Only the fields getCourses answers: a class write bumps classes_version, not this.
CREATE TRIGGER courses_version AFTER INSERT OR DELETE OR UPDATE OF provider_id, external_id, name, description ON courses
    FOR EACH ROW EXECUTE FUNCTION bump_courses_version();

-- +goose Down
DROP TRIGGER courses_version ON courses;
DROP FUNCTION bump_courses_version();
DROP TRIGGER classes_version_delete ON classes;
DROP TRIGGER classes_version_update ON classes;
DROP TRIGGER classes_version_insert ON classes;
DROP FUNCTION bump_classes_version();
ALTER TABLE providers DROP COLUMN courses_version;
ALTER TABLE courses DROP COLUMN classes_version;
