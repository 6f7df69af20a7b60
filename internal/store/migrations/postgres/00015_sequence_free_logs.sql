-- Issue 11: SQLite's 00015 drops AUTOINCREMENT from its append-only tables
-- (provider_calls, booking_events, notifications). PostgreSQL's ids come from
-- sequences, which need no such change; this file keeps the two dialects' versions
-- in step.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
