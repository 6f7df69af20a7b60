package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/tportal/tportal/internal/auth"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/store"
	"github.com/tportal/tportal/internal/store/storetest"
)

// 'admin provider set --new-password' rotates with the catalogue's rule, as the staff
// pages do: the new password is printed once, the old one stops working at once, and
// a change refused with it makes no new password.
func TestAdminProviderNewPassword(t *testing.T) {
	auth.BcryptCost = bcrypt.MinCost // the race detector makes default-cost hashes take a second each
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		dbURL := storetest.URL(t, dialect)
		env := []string{"TPORTAL_DB=" + dbURL}
		passwordLine := regexp.MustCompile(`(?m)^(?:new )?password: (\S+)$`)
		out := adminRun(t, env, 0, "provider", "add", "--name", "Acme Safety AS", "--username", "acme")
		m := passwordLine.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("provider add printed no password:\n%s", out)
		}
		old := m[1]

		db, err := store.OpenExisting(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		a := auth.New(db)
		if _, err := a.Authenticate(ctx, "test", "acme", old); err != nil {
			t.Fatalf("the added provider's password: %v", err)
		}

		out = adminRun(t, env, 0, "provider", "set", "--username", "acme", "--new-password")
		m = passwordLine.FindStringSubmatch(out)
		if m == nil || m[1] == old || !strings.Contains(out, "old password no longer works") {
			t.Fatalf("provider set --new-password:\n%s", out)
		}
		if _, err := a.Authenticate(ctx, "test", "acme", old); !errs.Is(err, errs.Unauthorized) {
			t.Errorf("the old password after rotation: %v, want refused", err)
		}
		if _, err := a.Authenticate(ctx, "test", "acme", m[1]); err != nil {
			t.Errorf("the new password: %v", err)
		}
		rotated := m[1]

		// With another change: both are made; a refused change makes no password.
		out = adminRun(t, env, 0, "provider", "set", "--username", "acme", "--name", "Acme AS", "--new-password")
		if m = passwordLine.FindStringSubmatch(out); m == nil || m[1] == rotated {
			t.Fatalf("provider set --name --new-password:\n%s", out)
		}
		p, _ := db.ProviderByUsername(ctx, "acme")
		if p.Name != "Acme AS" || bcrypt.CompareHashAndPassword([]byte(p.PasswordHash), []byte(m[1])) != nil {
			t.Errorf("after set --name --new-password: name %q, password not the printed one", p.Name)
		}
		out = adminRun(t, env, 1, "provider", "set", "--username", "acme", "--name", "", "--new-password")
		if passwordLine.MatchString(out) || !strings.Contains(out, "name: must not be empty") {
			t.Errorf("a refused change with --new-password:\n%s", out)
		}
		if after, _ := db.ProviderByUsername(ctx, "acme"); after.PasswordHash != p.PasswordHash {
			t.Error("a refused change made a new password")
		}
		if out := adminRun(t, env, 1, "provider", "set", "--username", "nobody", "--new-password"); !strings.Contains(out, `no provider with username "nobody"`) {
			t.Errorf("rotating an unknown provider:\n%s", out)
		}
	})
}
