package auth

import (
	"context"
	"os"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
)

// users is an in-memory Lookup.
type users map[string]catalog.Provider

func (u users) ProviderByUsername(_ context.Context, name string) (catalog.Provider, error) {
	p, ok := u[name]
	if !ok {
		return catalog.Provider{}, errs.E(errs.NotFound, "no such provider")
	}
	return p, nil
}

func TestMain(m *testing.M) {
	BcryptCost = bcrypt.MinCost // the race detector makes default-cost hashes take a second each
	os.Exit(m.Run())
}

func TestAuthenticate(t *testing.T) {
	ctx := context.Background()
	password, hash, err := NewPassword()
	if err != nil {
		t.Fatal(err)
	}
	if len(password) < 20 {
		t.Errorf("generated password %q is short", password)
	}
	u := users{"acme": {ID: 1, Username: "acme", PasswordHash: hash}}
	a := New(u)

	if p, err := a.Authenticate(ctx, "c1", "acme", password); err != nil || p.ID != 1 {
		t.Fatalf("right password: %v, %v", p, err)
	}
	// Unknown user and wrong password look the same.
	_, e1 := a.Authenticate(ctx, "c1", "nobody", password)
	_, e2 := a.Authenticate(ctx, "c1", "acme", password+"x")
	if !errs.Is(e1, errs.Unauthorized) || !errs.Is(e2, errs.Unauthorized) || errs.MessageOf(e1) != errs.MessageOf(e2) {
		t.Errorf("unknown user %v, wrong password %v: want the same Unauthorized", e1, e2)
	}

	// A password change takes effect at once, even though the old one is cached.
	newPassword, newHash, _ := NewPassword()
	u["acme"] = catalog.Provider{ID: 1, Username: "acme", PasswordHash: newHash}
	if _, err := a.Authenticate(ctx, "c1", "acme", password); !errs.Is(err, errs.Unauthorized) {
		t.Errorf("old password after change: %v", err)
	}
	if _, err := a.Authenticate(ctx, "c1", "acme", newPassword); err != nil {
		t.Errorf("new password: %v", err)
	}
}

func TestFailureLimitRefills(t *testing.T) {
	ctx := context.Background()
	password, hash, _ := NewPassword()
	a := New(users{"acme": {ID: 1, Username: "acme", PasswordHash: hash}})
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	a.Now = func() time.Time { return now }

	for i := range a.FailuresBurst {
		if _, err := a.Authenticate(ctx, "evil", "acme", "wrong-wrong-wrong"); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	if _, err := a.Authenticate(ctx, "evil", "acme", password); !errs.Is(err, errs.RateLimited) {
		t.Errorf("over the limit: %v, want RateLimited", err)
	}
	if _, err := a.Authenticate(ctx, "friend", "acme", password); err != nil {
		t.Errorf("another client is limited too: %v", err)
	}
	now = now.Add(7 * time.Second)
	if _, err := a.Authenticate(ctx, "evil", "acme", password); err != nil {
		t.Errorf("after the refill: %v", err)
	}
}

func TestHashPasswordRules(t *testing.T) {
	for _, pw := range []string{"short", string(make([]byte, 73))} {
		if _, err := HashPassword(pw); !errs.Is(err, errs.Invalid) {
			t.Errorf("HashPassword(len %d) = %v, want Invalid", len(pw), err)
		}
	}
}
