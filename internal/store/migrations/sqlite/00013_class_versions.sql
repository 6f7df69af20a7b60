-- Issue 11: on PostgreSQL class writes now count themselves in per-connection shard
-- rows instead of the course row (read the PostgreSQL file's comment). SQLite has one
-- writer, so writes to a course's classes never wait for each other on its row: the
-- triggers of 00010 stay. The table exists here, always empty, so that both databases
-- answer the store's one version query
--     courses.classes_version + SUM(class_version_shards.n of the course)

-- +goose Up
CREATE TABLE class_version_shards (
    course_id INTEGER NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    shard     INTEGER NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (course_id, shard)
);

-- +goose Down
DROP TABLE class_version_shards;
