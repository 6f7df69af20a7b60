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
CREATE FUNCTION bump_classes_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE courses SET classes_version = classes_version + 1 WHERE id = OLD.course_id;
    END IF;
    IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.course_id <> OLD.course_id) THEN
        UPDATE courses SET classes_version = classes_version + 1 WHERE id = NEW.course_id;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER classes_version AFTER INSERT OR UPDATE OR DELETE ON classes
    FOR EACH ROW EXECUTE FUNCTION bump_classes_version();

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
DROP TRIGGER classes_version ON classes;
DROP FUNCTION bump_classes_version();
ALTER TABLE providers DROP COLUMN courses_version;
ALTER TABLE courses DROP COLUMN classes_version;
