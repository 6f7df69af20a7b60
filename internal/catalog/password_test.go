package catalog_test

import (
	"context"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/tportal/tportal/internal/auth"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/store"
	"github.com/tportal/tportal/internal/store/storetest"
)

// TestRotateProviderPassword: a rotated password stops working at once on every
// instance of the portal, here two store handles on one database, each with its own
// authenticator that had just verified (and cached) the old password.
func TestRotateProviderPassword(t *testing.T) {
	auth.BcryptCost = bcrypt.MinCost // the race detector makes default-cost hashes take a second each
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		url := storetest.URL(t, dialect)
		open := func() *store.DB {
			db, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}
		one, two := open(), open()
		s := &catalog.Service{Store: one, NewPassword: auth.NewPassword}
		instances := map[string]*auth.Authenticator{"this instance": auth.New(one), "another instance": auth.New(two)}

		p, old, err := s.RegisterProvider(ctx, catalog.Provider{Name: "Acme Safety AS", Username: "acme", PasswordHash: "ignored"})
		if err != nil || len(old) < 20 || p.PasswordHash == "ignored" {
			t.Fatalf("RegisterProvider: %+v, %q, %v", p, old, err)
		}
		for name, a := range instances {
			if _, err := a.Authenticate(ctx, "test", "acme", old); err != nil {
				t.Fatalf("%s refuses the new provider's password: %v", name, err)
			}
		}

		rotated, password, err := s.RotateProviderPassword(ctx, "acme")
		if err != nil || password == "" || password == old || rotated.ID != p.ID || rotated.PasswordHash == p.PasswordHash {
			t.Fatalf("RotateProviderPassword: %+v, %q, %v", rotated, password, err)
		}
		for name, a := range instances {
			if _, err := a.Authenticate(ctx, "test", "acme", old); !errs.Is(err, errs.Unauthorized) {
				t.Errorf("%s: the old password after rotation: %v, want refused", name, err)
			}
			if got, err := a.Authenticate(ctx, "test", "acme", password); err != nil || got.ID != p.ID {
				t.Errorf("%s: the new password: %v", name, err)
			}
		}

		if _, _, err := s.RotateProviderPassword(ctx, "nobody"); !errs.Is(err, errs.NotFound) {
			t.Errorf("rotating an unknown provider: %v, want not found", err)
		}
		if _, _, err := (&catalog.Service{Store: one}).RotateProviderPassword(ctx, "acme"); !errs.Is(err, errs.Internal) {
			t.Errorf("rotating without a password generator: %v, want an internal error", err)
		}
		if after, _ := one.ProviderByUsername(ctx, "acme"); after.PasswordHash != rotated.PasswordHash {
			t.Error("a failed rotation changed the password")
		}
	})
}
