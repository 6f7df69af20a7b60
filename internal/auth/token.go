package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/tportal/tportal/internal/errs"
)

// TokenPrefix starts every API token, so a leaked token is easy to recognise (and to
// find with secret scanners) and a token pasted in the wrong place is refused at once.
const TokenPrefix = "tpk_"

// Token is an API token's record: never the token itself, only its hash.
type Token struct {
	ID         int64
	Name       string // who or what the token is for, e.g. "Acme intranet"
	CreatedAt  time.Time
	ExpiresAt  *time.Time // nil: never expires
	RevokedAt  *time.Time // nil: not revoked
	LastUsedAt *time.Time // nil: never used; updated at most every TouchEvery
	// CompanyID is the company the token acts for: it books for that company and sees
	// only its bookings. 0 is a portal-wide token, for staff integrations: it sees
	// every booking, as tokens made before companies existed do.
	CompanyID int64
}

// Status is "active", "revoked" or "expired" at now.
func (t Token) Status(now time.Time) string {
	switch {
	case t.RevokedAt != nil:
		return "revoked"
	case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
		return "expired"
	}
	return "active"
}

// TokenStore keeps API tokens by the hash of the token; *store.DB satisfies it.
type TokenStore interface {
	// CreateToken stores a token's hash under a name, with an optional expiry, and
	// returns its id.
	CreateToken(ctx context.Context, name, hash string, expiresAt *time.Time) (int64, error)
	// TokenByHash returns errs.NotFound for an unknown hash.
	TokenByHash(ctx context.Context, hash string) (Token, error)
	// Tokens lists every token, oldest first.
	Tokens(ctx context.Context) ([]Token, error)
	// RevokeToken marks a token revoked at at and returns it; errs.NotFound for an
	// unknown id.
	RevokeToken(ctx context.Context, id int64, at time.Time) (Token, error)
	// TouchToken records that a token was used at at.
	TouchToken(ctx context.Context, id int64, at time.Time) error
}

// TouchEvery is how stale a token's "last used" time may get: a request writes it
// only when the stored one is older, so a busy token costs one write a minute, not
// one per request.
const TouchEvery = time.Minute

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
	Store  TokenStore
	Now    func() time.Time // time.Now when nil
	Logger *slog.Logger     // slog.Default() when nil
}

func (a *TokenAuth) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// errInvalidToken is the answer for a malformed or unknown token alike, built only
// when needed: a valid token, every request's case, allocates no error.
func errInvalidToken() error {
	return errs.E(errs.Unauthorized, "the API token is not valid")
}

// CheckToken returns the record of a valid token. A missing, malformed or unknown
// token is errs.Unauthorized, with the same message for the last two; a revoked or
// expired one is errs.Unauthorized saying so. A use is recorded as "last used" when
// the recorded one is older than TouchEvery.
func (a *TokenAuth) CheckToken(ctx context.Context, token string) (Token, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return Token{}, errs.E(errs.Unauthorized, "an API token is required: send the header 'Authorization: Bearer <token>'")
	}
	if !strings.HasPrefix(token, TokenPrefix) || len(token) > 200 {
		return Token{}, errInvalidToken()
	}
	t, err := a.Store.TokenByHash(ctx, HashToken(token))
	if errs.Is(err, errs.NotFound) {
		return Token{}, errInvalidToken()
	}
	if err != nil {
		return Token{}, err
	}
	now := a.now()
	switch t.Status(now) {
	case "revoked":
		return Token{}, errs.E(errs.Unauthorized, "the API token %q was revoked on %s; ask the portal's staff for a new one", t.Name, t.RevokedAt.UTC().Format(time.RFC3339))
	case "expired":
		return Token{}, errs.E(errs.Unauthorized, "the API token %q expired on %s; ask the portal's staff for a new one", t.Name, t.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= TouchEvery {
		// Losing this write loses only a "last used" time; the request goes on.
		if err := a.Store.TouchToken(ctx, t.ID, now); err != nil {
			a.logger().WarnContext(ctx, "recording an API token's use", "token", t.ID, "err", err)
		}
	}
	return t, nil
}

func (a *TokenAuth) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}

// Revoke revokes the token with the id and returns it; errs.NotFound for an unknown id.
// Revoking a revoked token keeps its first revocation time.
func (a *TokenAuth) Revoke(ctx context.Context, id int64) (Token, error) {
	t, err := a.Store.RevokeToken(ctx, id, a.now())
	if errs.Is(err, errs.NotFound) {
		return Token{}, errs.E(errs.NotFound, "no API token with id %d ('tportal admin token list' shows them)", id)
	}
	return t, err
}

// RevokeNamed revokes the one active token with the name and returns it. A name no
// active token has is errs.NotFound; a name several share is errs.Conflict listing
// their ids, so that the right one is revoked by id.
func (a *TokenAuth) RevokeNamed(ctx context.Context, name string) (Token, error) {
	tokens, err := a.Store.Tokens(ctx)
	if err != nil {
		return Token{}, err
	}
	now := a.now()
	var ids []string
	var match Token
	for _, t := range tokens {
		if t.Name == name && t.Status(now) == "active" {
			ids, match = append(ids, strconv.FormatInt(t.ID, 10)), t
		}
	}
	switch len(ids) {
	case 0:
		return Token{}, errs.E(errs.NotFound, "no active API token named %q ('tportal admin token list' shows them)", name)
	case 1:
		return a.Revoke(ctx, match.ID)
	}
	return Token{}, errs.E(errs.Conflict, "%d active API tokens are named %q (ids %s); revoke one with --id", len(ids), name, strings.Join(ids, ", "))
}
