package account_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tportal/tportal/internal/account"
	"github.com/tportal/tportal/internal/auth"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/store/storetest"
)

func TestMain(m *testing.M) {
	auth.BcryptCost = bcrypt.MinCost // default-cost hashes take a second each under the race detector
	os.Exit(m.Run())
}

// mailbox records the mails the service sends.
type mailbox struct {
	mu     sync.Mutex
	resets map[string]string // e-mail → link
	invite map[string]string // e-mail → link
	fail   bool
}

func (m *mailbox) SendPasswordReset(_ context.Context, to account.Account, link string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return errs.E(errs.Internal, "smtp down")
	}
	m.resets[to.Email] = link
	return nil
}

func (m *mailbox) SendInvitation(_ context.Context, to, by account.Account, link string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return errs.E(errs.Internal, "smtp down")
	}
	m.invite[to.Email] = link + " from " + by.Email
	return nil
}

// throttle records the keys it was asked about.
type throttle struct{ waited, failed []string }

func (t *throttle) Wait(_ context.Context, keys ...string) error {
	t.waited = append(t.waited, keys...)
	return nil
}
func (t *throttle) Failed(_ context.Context, keys ...string) error {
	t.failed = append(t.failed, keys...)
	return nil
}

// clock is a settable now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

type fixture struct {
	svc   *account.Service
	mail  *mailbox
	clock *clock
	kari  account.Account // an enroller of Acme
	staff account.Account
}

func newFixture(t *testing.T, dialect string) *fixture {
	t.Helper()
	f := &fixture{mail: &mailbox{resets: map[string]string{}, invite: map[string]string{}},
		clock: &clock{t: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}}
	f.svc = &account.Service{Store: storetest.Open(t, dialect), Passwords: &auth.Passwords{}, Mailer: f.mail, Now: f.clock.now}
	var err error
	ctx := context.Background()
	if f.kari, err = f.svc.SignUp(ctx, account.SignUp{Company: "Acme AS", FirstName: "Kari", LastName: "Nordmann",
		Email: "kari@acme.example", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	if f.staff, err = f.svc.AddStaff(ctx, "Sam", "Staff", "sam@portal.example", "staff password 1"); err != nil {
		t.Fatal(err)
	}
	return f
}

// secretOf takes the secret out of a link made by link.
func secretOf(l string) string {
	_, s, _ := strings.Cut(l, "token=")
	s, _, _ = strings.Cut(s, " ")
	return s
}

func link(secret string) string { return "https://portal.example/x?token=" + secret }

func TestLinkUsable(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	used := now.Add(-time.Minute)
	for name, tc := range map[string]struct {
		l    account.Link
		p    account.Purpose
		want bool
	}{
		"fresh invitation":         {account.Link{Purpose: account.Invitation, ExpiresAt: now.Add(time.Second)}, account.Invitation, true},
		"expired":                  {account.Link{Purpose: account.Invitation, ExpiresAt: now}, account.Invitation, false},
		"used":                     {account.Link{Purpose: account.PasswordReset, ExpiresAt: now.Add(time.Hour), UsedAt: &used}, account.PasswordReset, false},
		"invitation used as reset": {account.Link{Purpose: account.Invitation, ExpiresAt: now.Add(time.Hour)}, account.PasswordReset, false},
		"reset used as invitation": {account.Link{Purpose: account.PasswordReset, ExpiresAt: now.Add(time.Hour)}, account.Invitation, false},
	} {
		if got := tc.l.Usable(tc.p, now); got != tc.want {
			t.Errorf("%s: usable %v, want %v", name, got, tc.want)
		}
	}
	if account.HashSecret("a") == account.HashSecret("b") || account.HashSecret("a") == "a" {
		t.Error("HashSecret does not hash")
	}
}

func TestInvite(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		f := newFixture(t, dialect)
		for name, tc := range map[string]struct {
			by   account.Account
			in   account.Invite
			code errs.Code
			want string
		}{
			"staff cannot invite": {f.staff, account.Invite{FirstName: "A", LastName: "B", Email: "a@b.example"}, errs.Forbidden, "enrollers"},
			"bad e-mail":          {f.kari, account.Invite{FirstName: "A", LastName: "B", Email: "not mail"}, errs.Invalid, "email: is not an e-mail address"},
			"no name":             {f.kari, account.Invite{LastName: "B", Email: "a@b.example"}, errs.Invalid, "firstName: is required"},
			"an active account":   {f.kari, account.Invite{FirstName: "K", LastName: "N", Email: " KARI@acme.example"}, errs.Conflict, "already has an account"},
			"a staff account":     {f.kari, account.Invite{FirstName: "S", LastName: "S", Email: "sam@portal.example"}, errs.Conflict, "already has an account"},
		} {
			_, err := f.svc.Invite(ctx, tc.by, tc.in, link)
			if !errs.Is(err, tc.code) || !strings.Contains(errs.MessageOf(err), tc.want) {
				t.Errorf("%s: %v, want %s %q", name, err, tc.code, tc.want)
			}
		}

		in := account.Invite{FirstName: "Ola", LastName: "Hansen", Email: "Ola@Acme.example"}
		first, err := f.svc.Invite(ctx, f.kari, in, link)
		if err != nil {
			t.Fatal(err)
		}
		if a := first.Account; a.CompanyID != f.kari.CompanyID || a.Role != account.Enroller || !a.Pending() || a.Email != "ola@acme.example" || !first.Mailed {
			t.Errorf("invited %+v, mailed %v", a, first.Mailed)
		}
		if got := f.mail.invite["ola@acme.example"]; got != first.Link+" from kari@acme.example" {
			t.Errorf("mailed %q, link %q", got, first.Link)
		}
		// A pending colleague cannot sign in, and may be invited again.
		if _, err := f.svc.SignIn(ctx, "c", "ola@acme.example", ""); !errs.Is(err, errs.Unauthorized) {
			t.Errorf("a pending account signs in: %v", err)
		}
		f.mail.fail = true
		again, err := f.svc.Invite(ctx, f.kari, in, link)
		if err != nil || again.Account.ID != first.Account.ID || again.Link == first.Link || again.Mailed {
			t.Fatalf("inviting again: %+v, %v", again, err)
		}
		colleagues, err := f.svc.Colleagues(ctx, f.kari)
		if err != nil || len(colleagues) != 2 {
			t.Errorf("colleagues: %d, %v", len(colleagues), err)
		}
		// Another company cannot take over a pending colleague.
		other, err := f.svc.SignUp(ctx, account.SignUp{Company: "Other AS", FirstName: "O", LastName: "P", Email: "o@other.example", Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Invite(ctx, other, in, link); !errs.Is(err, errs.Conflict) {
			t.Errorf("another company invited a pending colleague: %v", err)
		}
	})
}

func TestSetPasswordThroughLinks(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		f := newFixture(t, dialect)
		start := f.clock.t
		invite := func(email string) string {
			inv, err := f.svc.Invite(ctx, f.kari, account.Invite{FirstName: "Ola", LastName: "Hansen", Email: email}, link)
			if err != nil {
				t.Fatal(err)
			}
			return secretOf(inv.Link)
		}
		reset := func(email string) string {
			delete(f.mail.resets, email)
			if err := f.svc.RequestPasswordReset(ctx, "c", email, link); err != nil {
				t.Fatal(err)
			}
			return secretOf(f.mail.resets[email])
		}
		for name, tc := range map[string]struct {
			purpose  account.Purpose
			secret   func() string
			after    time.Duration // time passed before the link is used
			password string
			code     errs.Code // "": the password is set
		}{
			"invitation":                 {account.Invitation, func() string { return invite("a1@acme.example") }, 7*24*time.Hour - time.Second, "a good long password", ""},
			"invitation expired":         {account.Invitation, func() string { return invite("a2@acme.example") }, 7 * 24 * time.Hour, "a good long password", errs.NotFound},
			"invitation as a reset":      {account.PasswordReset, func() string { return invite("a3@acme.example") }, 0, "a good long password", errs.NotFound},
			"reset":                      {account.PasswordReset, func() string { return reset("kari@acme.example") }, 59 * time.Minute, "a new long password", ""},
			"reset expired":              {account.PasswordReset, func() string { return reset("kari@acme.example") }, time.Hour, "a new long password", errs.NotFound},
			"reset as an invitation":     {account.Invitation, func() string { return reset("kari@acme.example") }, 0, "a new long password", errs.NotFound},
			"short password":             {account.PasswordReset, func() string { return reset("kari@acme.example") }, 0, "short", errs.Invalid},
			"unknown secret":             {account.PasswordReset, func() string { return "not-a-secret" }, 0, "a new long password", errs.NotFound},
			"empty secret":               {account.Invitation, func() string { return "" }, 0, "a new long password", errs.NotFound},
			"reset of a pending invitee": {account.PasswordReset, func() string { invite("a4@acme.example"); return reset("a4@acme.example") }, 0, "a good long password", ""},
			"reset of a staff account":   {account.PasswordReset, func() string { return reset("sam@portal.example") }, 0, "a new staff password", ""},
		} {
			f.clock.t = start
			secret := tc.secret()
			f.clock.t = start.Add(tc.after)
			a, err := f.svc.SetPassword(ctx, tc.purpose, secret, tc.password)
			if tc.code != "" {
				if !errs.Is(err, tc.code) {
					t.Errorf("%s: %v, want %s", name, err, tc.code)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if _, err := f.svc.SignIn(ctx, "c", a.Email, tc.password); err != nil {
				t.Errorf("%s: cannot sign in with the new password: %v", name, err)
			}
			if _, err := f.svc.SetPassword(ctx, tc.purpose, secret, tc.password+"!"); !errs.Is(err, errs.NotFound) {
				t.Errorf("%s: the link works twice: %v", name, err)
			}
		}
	})
}

func TestSetPasswordEndsSessionsAndOtherLinks(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		f := newFixture(t, dialect)
		var secrets []string
		for range 2 {
			if err := f.svc.RequestPasswordReset(ctx, "c", "kari@acme.example", link); err != nil {
				t.Fatal(err)
			}
			secrets = append(secrets, secretOf(f.mail.resets["kari@acme.example"]))
		}
		a, err := f.svc.SetPassword(ctx, account.PasswordReset, secrets[1], "a brand new password")
		if err != nil {
			t.Fatal(err)
		}
		if a.SessionEpoch != f.kari.SessionEpoch+1 {
			t.Errorf("session epoch %d after a reset, was %d", a.SessionEpoch, f.kari.SessionEpoch)
		}
		if _, err := f.svc.CheckLink(ctx, account.PasswordReset, secrets[0]); !errs.Is(err, errs.NotFound) {
			t.Errorf("an older reset link still works after the reset: %v", err)
		}
		if _, err := f.svc.SignIn(ctx, "c", "kari@acme.example", "correct horse battery"); !errs.Is(err, errs.Unauthorized) {
			t.Errorf("the old password still works: %v", err)
		}
	})
}

func TestRequestPasswordReset(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "sqlite")
	th := &throttle{}
	f.svc.Throttle = th
	for name, tc := range map[string]struct {
		email  string
		mailer bool
		code   errs.Code
		mailed string
	}{
		"known address":   {" Kari@Acme.example ", true, "", "kari@acme.example"},
		"unknown address": {"nobody@acme.example", true, "", ""},
		"not an address":  {"nobody", true, errs.Invalid, ""},
		"no mailer":       {"kari@acme.example", false, "", ""},
	} {
		f.mail.resets = map[string]string{}
		th.waited, th.failed = nil, nil
		f.svc.Mailer = nil
		if tc.mailer {
			f.svc.Mailer = f.mail
		}
		err := f.svc.RequestPasswordReset(ctx, "10.0.0.1", tc.email, link)
		if (tc.code == "" && err != nil) || (tc.code != "" && !errs.Is(err, tc.code)) {
			t.Errorf("%s: %v, want %v", name, err, tc.code)
		}
		var mailed []string
		for to := range f.mail.resets {
			mailed = append(mailed, to)
		}
		if want := tc.mailed; (want == "" && len(mailed) != 0) || (want != "" && (len(mailed) != 1 || mailed[0] != want)) {
			t.Errorf("%s: mailed %v, want %q", name, mailed, want)
		}
		wantKeys := "reset-client:10.0.0.1 reset-email:" + strings.ToLower(strings.TrimSpace(tc.email))
		if strings.Join(th.waited, " ") != wantKeys || strings.Join(th.failed, " ") != wantKeys {
			t.Errorf("%s: slowed down by %v, counted %v; want %s", name, th.waited, th.failed, wantKeys)
		}
	}
}
