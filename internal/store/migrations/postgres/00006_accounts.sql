-- Companies and the people who sign in to the web pages (enrollers of a company, and
-- portal staff), the web sessions (the table the session library, scs, reads and
-- writes), and the company a booking and an API token belong to. A booking or token
-- without a company predates companies or is portal-wide (staff integrations).

-- +goose Up
CREATE TABLE companies (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT   NOT NULL,
    name_key   TEXT   NOT NULL UNIQUE, -- the name folded for comparison, so "Acme" and "ACME " are one company
    created_at BIGINT NOT NULL
);

CREATE TABLE accounts (
    id            BIGSERIAL PRIMARY KEY,
    company_id    BIGINT REFERENCES companies (id),
    email         TEXT   NOT NULL UNIQUE, -- lower-cased
    first_name    TEXT   NOT NULL,
    last_name     TEXT   NOT NULL,
    phone         TEXT   NOT NULL DEFAULT '',
    password_hash TEXT   NOT NULL,
    role          TEXT   NOT NULL CHECK (role IN ('enroller', 'staff')),
    created_at    BIGINT NOT NULL,
    CHECK (role = 'staff' OR company_id IS NOT NULL)
);
CREATE INDEX accounts_company_id ON accounts (company_id);

CREATE TABLE sessions (
    token  TEXT PRIMARY KEY,
    data   BYTEA NOT NULL,
    expiry TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

ALTER TABLE bookings ADD COLUMN company_id BIGINT REFERENCES companies (id);
CREATE INDEX bookings_company_id ON bookings (company_id, id);

ALTER TABLE api_tokens ADD COLUMN company_id BIGINT REFERENCES companies (id);

-- +goose Down
ALTER TABLE api_tokens DROP COLUMN company_id;
DROP INDEX bookings_company_id;
ALTER TABLE bookings DROP COLUMN company_id;
DROP TABLE sessions;
DROP TABLE accounts;
DROP TABLE companies;
