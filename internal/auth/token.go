package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"github.com/tportal/tportal/internal/errs"
)

// TokenPrefix starts every API token, so a leaked token is easy to recognise (and to
// find with secret scanners) and a token pasted in the wrong place is refused at once.
const TokenPrefix = "tpk_"

// Token is an API token's record: never the token itself, only its hash.
type Token struct {
	ID        int64
	Name      string // who or what the token is for, e.g. "Acme intranet"
	CreatedAt time.Time
}

// TokenStore keeps API tokens by the hash of the token; *store.DB satisfies it.
type TokenStore interface {
	// CreateToken stores a token's hash under a name and returns its id.
	CreateToken(ctx context.Context, name, hash string) (int64, error)
	// TokenByHash returns errs.NotFound for an unknown hash.
	TokenByHash(ctx context.Context, hash string) (Token, error)
	// Tokens lists every token, oldest first.
	Tokens(ctx context.Context) ([]Token, error)
}

// NewToken returns a new API token, "tpk_" and 32 random bytes in unpadded base64url
// (256 bits), and the hash to store. The token is shown once and never stored.
func NewToken() (token, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken returns the hex SHA-256 of a token. Tokens carry 256 random bits, so a
// fast hash is right: there is nothing to brute-force, and checking a token costs one
// hash and one indexed lookup.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// TokenAuth checks bearer tokens against the store.
type TokenAuth struct {
	Store TokenStore
}

// CheckToken returns the record of a valid token. A missing, malformed or unknown
// token is errs.Unauthorized, with the same message for the last two.
func (a *TokenAuth) CheckToken(ctx context.Context, token string) (Token, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return Token{}, errs.E(errs.Unauthorized, "an API token is required: send the header 'Authorization: Bearer <token>'")
	}
	bad := errs.E(errs.Unauthorized, "the API token is not valid")
	if !strings.HasPrefix(token, TokenPrefix) || len(token) > 200 {
		return Token{}, bad
	}
	t, err := a.Store.TokenByHash(ctx, HashToken(token))
	if errs.Is(err, errs.NotFound) {
		return Token{}, bad
	}
	if err != nil {
		return Token{}, err
	}
	return t, nil
}
