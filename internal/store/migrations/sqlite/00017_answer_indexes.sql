-- Issue 11: PostgreSQL's 00017 makes bookings_state partial and provider_calls_at a
-- BRIN index (read the PostgreSQL file's comment). SQLite's indexes stay as they are;
-- this migration keeps the two numberings equal.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
