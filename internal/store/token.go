package store

import (
	"context"
	"time"

	"github.com/tportal/tportal/internal/auth"
)

var _ auth.TokenStore = (*DB)(nil)

// CreateToken implements auth.TokenStore. A hash stored twice is errs.Conflict.
func (s *DB) CreateToken(ctx context.Context, name, hash string) (int64, error) {
	var id int64
	err := s.q().QueryRowContext(ctx, `INSERT INTO api_tokens (name, token_hash, created_at) VALUES ($1, $2, $3) RETURNING id`,
		name, hash, millis(time.Now())).Scan(&id)
	return id, mapErr(err, "API token "+name)
}

// TokenByHash implements auth.TokenStore: errs.NotFound for an unknown hash.
func (s *DB) TokenByHash(ctx context.Context, hash string) (auth.Token, error) {
	var t auth.Token
	var created int64
	err := s.q().QueryRowContext(ctx, `SELECT id, name, created_at FROM api_tokens WHERE token_hash = $1`, hash).
		Scan(&t.ID, &t.Name, &created)
	t.CreatedAt = fromMillis(created)
	return t, mapErr(err, "API token")
}

// Tokens implements auth.TokenStore: every token, oldest first.
func (s *DB) Tokens(ctx context.Context) ([]auth.Token, error) {
	return queryAll(ctx, s, "list API tokens", `SELECT id, name, created_at FROM api_tokens ORDER BY id`, nil, func(row scanner) (auth.Token, error) {
		var t auth.Token
		var created int64
		err := row.Scan(&t.ID, &t.Name, &created)
		t.CreatedAt = fromMillis(created)
		return t, err
	})
}
