-- Issue 11: the statement-level triggers of 00010/00013 were about a sixth of
-- PostgreSQL's CPU under the load benchmark's updateClass (perf): two transition
-- tables, an aggregate and an INSERT ... ON CONFLICT that locks the shard row before
-- updating it, for every statement. And in a
-- transaction of several class writes (a shared batch, pgbatch.go, of ~6), every
-- statement updated the same shard row again, each time a new row version, its WAL and
-- a foreign-key check.
--
-- Now one row-level trigger adds to the course's shard row (the same row as 00013:
-- the writing connection's, pg_backend_pid() % 64) at most once per transaction: each
-- addition stamps the row with the transaction's 64-bit id (xact; never reused, unlike
-- a 32-bit xmin), and a write that sees its own transaction's stamp adds nothing more.
-- The rule readers rely on (classesVersionOf, internal/store/catalog.go) holds as
-- before: every committed transaction that inserts, updates or deletes a class adds at
-- least one to the sum of its course's version. The stamped row version a write skips
-- is one it sees, written by its own transaction in the write's own scope or an
-- enclosing or already released one, so it commits whenever the write does (a savepoint
-- rolled back takes both, or only the write: one too many, which is harmless). A row
-- version of another transaction is always added to, and a row not there yet is
-- inserted (or, inserted meanwhile by another connection of the same shard, added to)
-- as before.
--
-- Row-level AFTER triggers still run at the end of their statement, after all its
-- class rows are written and locked, so the sweep still never holds a shard row while
-- waiting for a class row. A statement writing classes of several courses (the sweep)
-- now locks their shard rows in the order of its rows rather than of course ids; two
-- such statements can only wait for each other on a shard row both use, that is on
-- connections whose pids agree modulo 64, and PostgreSQL's deadlock detection then
-- fails one of them, which is retried (a shared batch's members run alone; the sweep
-- runs again).

-- +goose Up
ALTER TABLE class_version_shards ADD COLUMN xact xid8;

DROP TRIGGER classes_version_insert ON classes;
DROP TRIGGER classes_version_update ON classes;
DROP TRIGGER classes_version_delete ON classes;
DROP FUNCTION bump_classes_version();

-- +goose StatementBegin
CREATE FUNCTION bump_class_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    my_shard CONSTANT integer := pg_backend_pid() % 64;
    me       CONSTANT xid8 := pg_current_xact_id();
    course   bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.course_id ELSE NEW.course_id END;
BEGIN
    LOOP
        UPDATE class_version_shards s SET n = s.n + 1, xact = me
        WHERE s.course_id = course AND s.shard = my_shard AND s.xact IS DISTINCT FROM me;
        IF NOT FOUND AND NOT EXISTS (SELECT 1 FROM class_version_shards s
                WHERE s.course_id = course AND s.shard = my_shard AND s.xact = me) THEN
            INSERT INTO class_version_shards AS s (course_id, shard, n, xact) VALUES (course, my_shard, 1, me)
            ON CONFLICT (course_id, shard) DO UPDATE SET n = s.n + 1, xact = EXCLUDED.xact;
        END IF;
        -- A class moved to another course (by hand) changes both courses' classes.
        EXIT WHEN TG_OP <> 'UPDATE' OR course = OLD.course_id;
        course := OLD.course_id;
    END LOOP;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER classes_version AFTER INSERT OR UPDATE OR DELETE ON classes
    FOR EACH ROW EXECUTE FUNCTION bump_class_version();

-- +goose Down
DROP TRIGGER classes_version ON classes;
DROP FUNCTION bump_class_version();
ALTER TABLE class_version_shards DROP COLUMN xact;

-- As in 00013.
-- +goose StatementBegin
CREATE FUNCTION bump_classes_version() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER classes_version_insert AFTER INSERT ON classes
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bump_classes_version();
CREATE TRIGGER classes_version_update AFTER UPDATE ON classes
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bump_classes_version();
CREATE TRIGGER classes_version_delete AFTER DELETE ON classes
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION bump_classes_version();
