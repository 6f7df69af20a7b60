package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/account"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/store/storetest"
)

func TestAccountLinks(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := storetest.Open(t, dialect)
		now := time.Now().UTC().Truncate(time.Millisecond)
		c := account.Company{Name: "Acme", CreatedAt: now}
		kari := account.Account{Email: "kari@acme.example", FirstName: "Kari", LastName: "N", PasswordHash: "h", Role: account.Enroller, CreatedAt: now}
		if err := db.CreateCompanyAccount(ctx, &c, &kari); err != nil {
			t.Fatal(err)
		}

		// An invitation stores the account and its link in one go.
		ola := account.Account{CompanyID: c.ID, Email: "ola@acme.example", FirstName: "Ola", LastName: "H", Role: account.Enroller, CreatedAt: now}
		inv := account.Link{Purpose: account.Invitation, Hash: "hash-1", CreatedBy: kari.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := db.CreateInvitation(ctx, &ola, &inv); err != nil {
			t.Fatal(err)
		}
		if ola.ID == 0 || inv.ID == 0 || inv.AccountID != ola.ID {
			t.Fatalf("ids not set: account %d, link %+v", ola.ID, inv)
		}
		got, err := db.LinkByHash(ctx, "hash-1")
		if err != nil || got != inv {
			t.Errorf("link read back %+v, %v; stored %+v", got, err, inv)
		}
		if _, err := db.LinkByHash(ctx, "nope"); !errs.Is(err, errs.NotFound) {
			t.Errorf("unknown link: %v", err)
		}
		// The same e-mail cannot be invited as a new account, and nothing half is kept.
		dup := account.Account{CompanyID: c.ID, Email: "ola@acme.example", FirstName: "O", LastName: "H", Role: account.Enroller, CreatedAt: now}
		if err := db.CreateInvitation(ctx, &dup, &account.Link{Purpose: account.Invitation, Hash: "hash-dup", CreatedAt: now, ExpiresAt: now}); !errs.Is(err, errs.Conflict) {
			t.Errorf("a taken e-mail: %v", err)
		}
		if _, err := db.LinkByHash(ctx, "hash-dup"); !errs.Is(err, errs.NotFound) {
			t.Errorf("the link of a refused invitation was kept: %v", err)
		}
		// Inviting again adds only a link; a reset link of the same account too.
		again := account.Link{Purpose: account.Invitation, Hash: "hash-2", CreatedBy: kari.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := db.CreateInvitation(ctx, &ola, &again); err != nil || again.AccountID != ola.ID {
			t.Fatalf("invite again: %v, %+v", err, again)
		}
		reset := account.Link{AccountID: kari.ID, Purpose: account.PasswordReset, Hash: "hash-3", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := db.CreateLink(ctx, &reset); err != nil {
			t.Fatal(err)
		}
		list, err := db.CompanyAccounts(ctx, c.ID)
		if err != nil || len(list) != 2 || list[0].Email != "kari@acme.example" || !list[1].Pending() {
			t.Errorf("company accounts: %+v, %v", list, err)
		}

		// Using a link sets the password, raises the epoch, and uses up every link of
		// that account, no other.
		used := now.Add(time.Minute)
		if err := db.UseLink(ctx, inv.ID, ola.ID, "new-hash", used); err != nil {
			t.Fatal(err)
		}
		a, err := db.AccountByID(ctx, ola.ID)
		if err != nil || a.PasswordHash != "new-hash" || a.SessionEpoch != 1 {
			t.Errorf("after use: %+v, %v", a, err)
		}
		for hash, wantUsed := range map[string]bool{"hash-1": true, "hash-2": true, "hash-3": false} {
			l, err := db.LinkByHash(ctx, hash)
			if err != nil || (l.UsedAt != nil) != wantUsed || (wantUsed && !l.UsedAt.Equal(used)) {
				t.Errorf("%s: used at %v, want used %v (%v)", hash, l.UsedAt, wantUsed, err)
			}
		}
		for name, tc := range map[string]struct{ id, account int64 }{
			"used already":   {inv.ID, ola.ID},
			"another's link": {reset.ID, ola.ID},
			"unknown link":   {999999, kari.ID},
		} {
			if err := db.UseLink(ctx, tc.id, tc.account, "other", used); !errs.Is(err, errs.NotFound) {
				t.Errorf("%s: %v", name, err)
			}
		}
		if a, _ := db.AccountByID(ctx, ola.ID); a.PasswordHash != "new-hash" || a.SessionEpoch != 1 {
			t.Errorf("a refused use changed the account: %+v", a)
		}
		if a, _ := db.AccountByID(ctx, kari.ID); a.PasswordHash != "h" || a.SessionEpoch != 0 {
			t.Errorf("a refused use changed another account: %+v", a)
		}
	})
}
