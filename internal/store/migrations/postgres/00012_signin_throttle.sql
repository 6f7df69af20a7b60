-- The sign-in slow-down's buckets (internal/auth.SignInThrottle), shared by every portal
-- instance on this database. key_hash is the SHA-256 of the key (a client or e-mail
-- address: personal data, so never kept in the clear); full_at (Unix milliseconds) is
-- when the bucket is full again. A row with full_at in the past has no effect and is
-- deleted by the next sweep; the index keeps that DELETE cheap.

-- +goose Up
CREATE TABLE signin_throttle (
    key_hash TEXT   PRIMARY KEY,
    full_at  BIGINT NOT NULL
);
CREATE INDEX signin_throttle_full_at ON signin_throttle (full_at);

-- +goose Down
DROP TABLE signin_throttle;
