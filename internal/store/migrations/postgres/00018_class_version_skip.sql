-- Issue 11: 00016's trigger adds to a course's shard row once per transaction, but
-- still ran its UPDATE (finding the row already stamped) and an EXISTS for every
-- further class row the transaction wrote: a shared batch (pgbatch.go) taking seats in
-- several classes of one course, or one class several times, paid two queries a row.
--
-- Now the trigger remembers, in a transaction-local setting, the transaction and the
-- course it last added for, and a row of the same transaction and course runs no query.
-- The setting holds only the last course: a transaction writing courses A, B, A adds to
-- A twice, which is harmless (the sum only has to change). It is reliable because
-- PostgreSQL undoes a setting with the rest of a savepoint rolled back (set_config's
-- is_local is SET LOCAL), so the setting never names an addition that was undone; and
-- it carries the transaction's id (pg_current_xact_id, the value of txid_current) so a
-- value left over from another transaction (SET LOCAL reverts at its end, a
-- session-level SET would not) never matches.
-- Which rows add to which courses is unchanged from 00016.

-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION bump_class_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    my_shard CONSTANT integer := pg_backend_pid() % 64;
    me       CONSTANT xid8 := pg_current_xact_id();
    course   bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.course_id ELSE NEW.course_id END;
    last     text := current_setting('tportal.class_version_added', true);
    mark     text;
BEGIN
    LOOP
        mark := me::text || ':' || course;
        IF last IS DISTINCT FROM mark THEN
            UPDATE class_version_shards s SET n = s.n + 1, xact = me
            WHERE s.course_id = course AND s.shard = my_shard AND s.xact IS DISTINCT FROM me;
            IF NOT FOUND AND NOT EXISTS (SELECT 1 FROM class_version_shards s
                    WHERE s.course_id = course AND s.shard = my_shard AND s.xact = me) THEN
                INSERT INTO class_version_shards AS s (course_id, shard, n, xact) VALUES (course, my_shard, 1, me)
                ON CONFLICT (course_id, shard) DO UPDATE SET n = s.n + 1, xact = EXCLUDED.xact;
            END IF;
            last := set_config('tportal.class_version_added', mark, true);
        END IF;
        -- A class moved to another course (by hand) changes both courses' classes.
        EXIT WHEN TG_OP <> 'UPDATE' OR course = OLD.course_id;
        course := OLD.course_id;
    END LOOP;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose Down
-- As in 00016.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION bump_class_version() RETURNS trigger LANGUAGE plpgsql AS $$
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
