package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/auth"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/store/storetest"
)

// A token works until it is revoked or expires, and then answers Unauthorized saying
// which; its "last used" time is written at most once per auth.TouchEvery.
func TestTokenLifecycle(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := storetest.Open(t, dialect)
		now := time.Now().Truncate(time.Millisecond) // the store keeps milliseconds
		a := &auth.TokenAuth{Store: db, Now: func() time.Time { return now }}
		create := func(name string, expires *time.Time) (string, int64) {
			token, hash := auth.NewToken()
			id, err := db.CreateToken(ctx, name, hash, expires)
			if err != nil {
				t.Fatal(err)
			}
			return token, id
		}
		lastUsed := func(id int64) *time.Time {
			tokens, err := db.Tokens(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, tok := range tokens {
				if tok.ID == id {
					return tok.LastUsedAt
				}
			}
			t.Fatalf("token %d not listed", id)
			return nil
		}
		inAnHour := now.Add(time.Hour)
		token, id := create("intranet", &inAnHour)
		start := now

		if lastUsed(id) != nil {
			t.Error("a new token has a last-used time")
		}
		for _, step := range []struct {
			advance  time.Duration
			wantUsed time.Duration // since start
		}{
			{0, 0},
			{30 * time.Second, 0}, // within TouchEvery: not written again
			{31 * time.Second, time.Minute + time.Second}, // past it: written
		} {
			now = now.Add(step.advance)
			if _, err := a.CheckToken(ctx, token); err != nil {
				t.Fatalf("CheckToken at +%v: %v", now.Sub(start), err)
			}
			got := lastUsed(id)
			if got == nil || got.Sub(start) != step.wantUsed {
				t.Errorf("at +%v last used %v, want start+%v", now.Sub(start), got, step.wantUsed)
			}
		}

		now = inAnHour
		if _, err := a.CheckToken(ctx, token); !errs.Is(err, errs.Unauthorized) || !strings.Contains(errs.MessageOf(err), `"intranet" expired on`) {
			t.Errorf("expired token: %v", err)
		}
		now = start

		other, otherID := create("partner", nil)
		if _, err := a.RevokeNamed(ctx, "partner"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.CheckToken(ctx, other); !errs.Is(err, errs.Unauthorized) || !strings.Contains(errs.MessageOf(err), `"partner" was revoked on`) {
			t.Errorf("revoked token: %v", err)
		}
		if _, err := a.CheckToken(ctx, token); err != nil {
			t.Errorf("revoking one token refused another: %v", err)
		}
		first, _ := db.Tokens(ctx)
		now = now.Add(time.Hour)
		if tok, err := a.Revoke(ctx, otherID); err != nil || !tok.RevokedAt.Equal(*first[1].RevokedAt) {
			t.Errorf("revoking again: %v, revoked at %v; want the first time %v", err, tok.RevokedAt, first[1].RevokedAt)
		}
		if _, err := a.Revoke(ctx, 999); !errs.Is(err, errs.NotFound) {
			t.Errorf("revoke unknown id: %v", err)
		}
		if _, err := a.RevokeNamed(ctx, "nobody"); !errs.Is(err, errs.NotFound) {
			t.Errorf("revoke unknown name: %v", err)
		}
		create("twin", nil)
		create("twin", nil)
		if _, err := a.RevokeNamed(ctx, "twin"); !errs.Is(err, errs.Conflict) || !strings.Contains(errs.MessageOf(err), "revoke one with --id") {
			t.Errorf("revoke a shared name: %v", err)
		}
	})
}
