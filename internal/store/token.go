package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tportal/tportal/internal/auth"
)

var _ auth.TokenStore = (*DB)(nil)

const tokenColumns = `id, name, created_at, expires_at, revoked_at, last_used_at, company_id`

func scanToken(row scanner) (auth.Token, error) {
	var t auth.Token
	var created int64
	var expires, revoked, lastUsed, company sql.NullInt64
	err := row.Scan(&t.ID, &t.Name, &created, &expires, &revoked, &lastUsed, &company)
	t.CompanyID = company.Int64
	t.CreatedAt = fromMillis(created)
	t.ExpiresAt, t.RevokedAt, t.LastUsedAt = timePtr(expires), timePtr(revoked), timePtr(lastUsed)
	return t, err
}

// CreateToken implements auth.TokenStore: a portal-wide token. A hash stored twice is
// errs.Conflict.
func (s *DB) CreateToken(ctx context.Context, name, hash string, expiresAt *time.Time) (int64, error) {
	return s.CreateCompanyToken(ctx, name, hash, expiresAt, 0)
}

// CreateCompanyToken stores a token that acts for the company companyID (0:
// portal-wide). An unknown company is errs.NotFound; a hash stored twice errs.Conflict.
func (s *DB) CreateCompanyToken(ctx context.Context, name, hash string, expiresAt *time.Time, companyID int64) (int64, error) {
	if companyID != 0 {
		if _, err := s.CompanyByID(ctx, companyID); err != nil {
			return 0, err
		}
	}
	var id int64
	err := s.q().QueryRowContext(ctx, `INSERT INTO api_tokens (name, token_hash, created_at, expires_at, company_id) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		name, hash, millis(time.Now()), nullMillis(expiresAt), sql.NullInt64{Int64: companyID, Valid: companyID != 0}).Scan(&id)
	return id, mapErr(err, "API token "+name)
}

// TokenByHash implements auth.TokenStore: errs.NotFound for an unknown hash. On
// PostgreSQL outside a transaction, concurrent reads share statements (tokenReads).
func (s *DB) TokenByHash(ctx context.Context, hash string) (auth.Token, error) {
	if s.dialect.name == "postgres" && s.joined(ctx) == nil {
		return s.tokenReads.read(ctx, hash, s.readToken, s.readTokens)
	}
	return s.readToken(ctx, hash)
}

// readToken reads the token with hash on its own.
func (s *DB) readToken(ctx context.Context, hash string) (auth.Token, error) {
	t, err := scanToken(s.row(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE token_hash = $1`, hash))
	return t, mapErr(err, "API token")
}

// readTokens sets the answers of several hashes' reads with one statement.
func (s *DB) readTokens(ctx context.Context, hashes []string, answers []readAnswer[auth.Token]) {
	found := make([]bool, len(hashes))
	err := s.readRows(ctx, tokensSQL, []any{hashes}, func(rows pgx.Rows) error {
		var i int64
		t, err := scanToken(withExtra{rows, []any{&i}})
		if err != nil {
			return err
		}
		answers[i-1], found[i-1] = readAnswer[auth.Token]{v: t}, true
		return nil
	})
	for i := range hashes {
		switch {
		case err != nil:
			answers[i] = readAnswer[auth.Token]{err: mapErr(err, "API token")}
		case !found[i]:
			answers[i] = readAnswer[auth.Token]{err: mapErr(sql.ErrNoRows, "API token")}
		}
	}
}

// tokensSQL reads the tokens whose hashes are in $1, each with the 1-based position
// of its hash, through the unique index per hash (see providersSQL for the shape).
const tokensSQL = `SELECT t.*, k.i FROM unnest((SELECT $1::text[])) WITH ORDINALITY AS k(hash, i)
	JOIN LATERAL (SELECT ` + tokenColumns + ` FROM api_tokens WHERE token_hash = k.hash LIMIT 1) t ON true`

// Tokens implements auth.TokenStore: every token, oldest first.
func (s *DB) Tokens(ctx context.Context) ([]auth.Token, error) {
	return queryAll(ctx, s, "list API tokens", `SELECT `+tokenColumns+` FROM api_tokens ORDER BY id`, nil, scanToken)
}

// RevokeToken implements auth.TokenStore: errs.NotFound for an unknown id. Revoking
// a revoked token keeps the first revocation time.
func (s *DB) RevokeToken(ctx context.Context, id int64, at time.Time) (auth.Token, error) {
	t, err := scanToken(s.q().QueryRowContext(ctx, `UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING `+tokenColumns,
		id, millis(at)))
	return t, mapErr(err, "API token")
}

// TouchToken implements auth.TokenStore: it records a use, never moving the time back.
func (s *DB) TouchToken(ctx context.Context, id int64, at time.Time) error {
	_, err := s.q().ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)`,
		id, millis(at))
	return mapErr(err, "record API token use")
}
