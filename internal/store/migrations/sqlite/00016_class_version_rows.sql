-- Issue 11: PostgreSQL's class-version triggers became row-level and add to a shard
-- row at most once per transaction (read the PostgreSQL file's comment). SQLite's
-- triggers of 00010 stay as they are; this migration keeps the two numberings equal.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
