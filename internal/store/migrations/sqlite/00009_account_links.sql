-- One-time links of accounts: an invitation of a colleague (sets the first password)
-- and a password reset. Only a SHA-256 hash of the link's secret is kept. A link is
-- used once (used_at), and setting a password uses up every other link of the
-- account. accounts.session_epoch rises when a password is set through a link; a web
-- session remembers the epoch it started under and ends when it no longer matches.

-- +goose Up
CREATE TABLE account_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    purpose    TEXT   NOT NULL CHECK (purpose IN ('invite', 'reset')),
    token_hash TEXT   NOT NULL UNIQUE,
    created_by BIGINT REFERENCES accounts (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX account_tokens_account_id ON account_tokens (account_id);

ALTER TABLE accounts ADD COLUMN session_epoch BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE accounts DROP COLUMN session_epoch;
DROP TABLE account_tokens;
