-- Issue 11: PostgreSQL's class-version trigger skips its queries for further rows of a
-- transaction and course it already added for (read the PostgreSQL file's comment).
-- SQLite's triggers of 00010 stay as they are; this migration keeps the two numberings
-- equal.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
