-- Issue 11: migration 00010 bumped courses.classes_version on every class write, so on
-- PostgreSQL each write to a class of a course (a booking's seat included) waited for
-- the previous one's commit on the course row's lock. Now a class write counts itself
-- in one of 64 shard rows per course, chosen by the writing connection's backend pid:
-- concurrent writers, being on different connections, nearly always use different
-- rows and so do not wait for each other (two connections whose pids agree modulo 64
-- share a row and queue, as all of them queued before).
--
-- The version of a course's classes, as the store reads it (classesVersionOf in
-- internal/store/catalog.go), is
--     courses.classes_version + SUM(class_version_shards.n of the course)
-- at most 65 rows through primary keys. Every committed insert, update or delete of
-- a class adds at least one to it, and sums commute: it changes with every commit in
-- whatever order concurrent transactions commit, and never repeats. (A MAX over
-- versions drawn from a sequence would not: a transaction that drew the lower version
-- but committed later would leave it unchanged.)

-- +goose Up
CREATE TABLE class_version_shards (
    course_id BIGINT  NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    shard     INTEGER NOT NULL,
    n         BIGINT  NOT NULL,
    PRIMARY KEY (course_id, shard)
);

-- Statement-level, as in 00010: a statement's shard rows are locked after all its class
-- rows, in course order, so the sweep never holds a shard row while waiting for a class
-- row a booking holds. The classes_version_* triggers of 00010 call this function.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION bump_classes_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO class_version_shards AS s (course_id, shard, n)
        SELECT course_id, pg_backend_pid() % 64, COUNT(*) FROM new_rows GROUP BY course_id ORDER BY course_id
        ON CONFLICT (course_id, shard) DO UPDATE SET n = s.n + EXCLUDED.n;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO class_version_shards AS s (course_id, shard, n)
        SELECT course_id, pg_backend_pid() % 64, COUNT(*)
        FROM (SELECT course_id FROM new_rows UNION ALL SELECT course_id FROM old_rows) r
        GROUP BY course_id ORDER BY course_id
        ON CONFLICT (course_id, shard) DO UPDATE SET n = s.n + EXCLUDED.n;
    ELSE
        INSERT INTO class_version_shards AS s (course_id, shard, n)
        SELECT course_id, pg_backend_pid() % 64, COUNT(*) FROM old_rows GROUP BY course_id ORDER BY course_id
        ON CONFLICT (course_id, shard) DO UPDATE SET n = s.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose Down
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

-- Keep what the shards counted.
UPDATE courses SET classes_version = classes_version
    + COALESCE((SELECT SUM(n) FROM class_version_shards s WHERE s.course_id = courses.id), 0) + 1;
DROP TABLE class_version_shards;
