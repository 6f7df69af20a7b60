-- The periodic sweep (every 30 s) looks for live classes cancelled before its cut-off
-- to delete them. Without an index it read every live class each time, under
-- SQLite's write lock: with 100 000 classes that was most of an idle portal's CPU.
-- The partial index holds only the live cancelled classes, a handful.

-- +goose Up
CREATE INDEX classes_cancelled_live ON classes (cancelled_at) WHERE deleted_at IS NULL AND cancelled_at IS NOT NULL;

-- +goose Down
DROP INDEX classes_cancelled_live;
