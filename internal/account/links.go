package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strings"
	"time"

	"github.com/tportal/tportal/internal/errs"
)

// Mailer sends the account mails; the portal's outbox implements it.
type Mailer interface {
	SendPasswordReset(ctx context.Context, to Account, link string) error
	SendInvitation(ctx context.Context, to Account, invitedBy Account, link string) error
}

// Purpose is what a one-time link lets its holder do.
type Purpose string

// The link purposes.
const (
	Invitation    Purpose = "invite" // a colleague sets the first password of an invited account
	PasswordReset Purpose = "reset"  // an account holder sets a new password
)

// How long a link is valid: an invitation waits for a colleague to read the mail; a
// reset link is used at once, and a leaked one should be worth little.
const (
	InvitationValidFor    = 7 * 24 * time.Hour
	PasswordResetValidFor = time.Hour
)

// Link is a one-time link's stored half: only the hash of the secret in the link is
// kept, so a copy of the database signs nobody in.
type Link struct {
	ID        int64
	AccountID int64
	Purpose   Purpose
	Hash      string // HashSecret of the secret
	CreatedBy int64  // the inviter; 0 for a reset
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// HashSecret is the stored form of a link's secret. The secret is 128 random bits, so
// a fast hash suffices: nobody can guess their way back to it.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// newLink makes a secret and the Link that stores its hash.
func (s *Service) newLink(accountID, createdBy int64, p Purpose, validFor time.Duration) (Link, string) {
	secret := rand.Text()
	now := s.now()
	return Link{AccountID: accountID, Purpose: p, Hash: HashSecret(secret), CreatedBy: createdBy,
		CreatedAt: now, ExpiresAt: now.Add(validFor)}, secret
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// Invite is what an enroller fills in for a colleague.
type Invite struct {
	FirstName string
	LastName  string
	Email     string
}

// Invited is the answer to an invitation: the new account and its link.
type Invited struct {
	Account Account
	Link    string
	Mailed  bool // the mail went to the outbox; false without a Mailer or when it failed
}

// Invite adds a colleague to the inviter's company as an account without a password,
// and makes a link, valid for InvitationValidFor, to set one. link turns the link's
// secret into the absolute URL the colleague opens. Inviting a pending colleague
// again makes a new link (the old one stays valid until it expires); an address with
// an account of its own is errs.Conflict. Only enrollers invite (errs.Forbidden).
// The link is mailed when there is a Mailer; it is returned either way, so the
// inviter can pass it on.
func (s *Service) Invite(ctx context.Context, inviter Account, in Invite, link func(secret string) string) (Invited, error) {
	if inviter.Role != Enroller || inviter.CompanyID == 0 {
		return Invited{}, errs.E(errs.Forbidden, "only a company's enrollers invite colleagues")
	}
	u := SignUp{Company: "-", FirstName: in.FirstName, LastName: in.LastName, Email: in.Email}
	u.normalise()
	if err := u.validate().err(); err != nil {
		return Invited{}, err
	}
	a, err := s.Store.AccountByEmail(ctx, u.Email)
	switch {
	case errs.Is(err, errs.NotFound):
		a = Account{CompanyID: inviter.CompanyID, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName,
			Role: Enroller, CreatedAt: s.now()}
	case err != nil:
		return Invited{}, err
	case a.CompanyID != inviter.CompanyID || !a.Pending():
		return Invited{}, errs.E(errs.Conflict, "email: %s already has an account", u.Email)
	}
	t, secret := s.newLink(a.ID, inviter.ID, Invitation, InvitationValidFor)
	if err := s.Store.CreateInvitation(ctx, &a, &t); err != nil {
		return Invited{}, err
	}
	out := Invited{Account: a, Link: link(secret)}
	if s.Mailer != nil {
		if err := s.Mailer.SendInvitation(ctx, a, inviter, out.Link); err != nil {
			s.logger().ErrorContext(ctx, "invitation not mailed", "account", a.ID, "err", err)
		} else {
			out.Mailed = true
		}
	}
	return out, nil
}

// RequestPasswordReset mails a link, valid for PasswordResetValidFor, to set a new
// password for the account with the e-mail address. Its answer never says whether
// the address has an account: nil either way, and a mail that fails is only logged.
// Every request counts against clientKey and the address like a failed sign-in, so
// repeated requests are slowed down (and cannot flood a mailbox). Without a Mailer
// no link is made at all, since nobody could receive it; one warning is logged.
func (s *Service) RequestPasswordReset(ctx context.Context, clientKey, email string, link func(secret string) string) error {
	email = strings.ToLower(strings.TrimSpace(email))
	keys := []string{"reset-client:" + clientKey, "reset-email:" + email}
	if s.Throttle != nil {
		if err := s.Throttle.Wait(ctx, keys...); err != nil {
			return err
		}
		if err := s.Throttle.Failed(ctx, keys...); err != nil {
			return err
		}
	}
	u := SignUp{Company: "-", FirstName: "-", LastName: "-", Email: email}
	if problems := u.validate(); len(problems) > 0 {
		return errs.E(errs.Invalid, "email: is not an e-mail address")
	}
	if s.Mailer == nil {
		s.logger().WarnContext(ctx, "password reset requested, but no mailer is configured: no link was made")
		return nil
	}
	a, err := s.Store.AccountByEmail(ctx, email)
	if errs.Is(err, errs.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	t, secret := s.newLink(a.ID, 0, PasswordReset, PasswordResetValidFor)
	if err := s.Store.CreateLink(ctx, &t); err != nil {
		return err
	}
	if err := s.Mailer.SendPasswordReset(ctx, a, link(secret)); err != nil {
		s.logger().ErrorContext(ctx, "password reset not mailed", "account", a.ID, "err", err)
	}
	return nil
}

// errBadLink is the one answer to a link that is unknown, used, expired or of the
// other purpose, so that the answer tells nothing about which.
func errBadLink() error {
	return errs.E(errs.NotFound, "this link is not valid: it may have expired or been used already. Ask for a new one")
}

// CheckLink returns the account a link's secret is for, while the link may be used.
func (s *Service) CheckLink(ctx context.Context, p Purpose, secret string) (Account, error) {
	_, a, err := s.checkLink(ctx, p, secret)
	return a, err
}

func (s *Service) checkLink(ctx context.Context, p Purpose, secret string) (Link, Account, error) {
	if secret == "" || len(secret) > 100 {
		return Link{}, Account{}, errBadLink()
	}
	t, err := s.Store.LinkByHash(ctx, HashSecret(secret))
	if errs.Is(err, errs.NotFound) {
		return Link{}, Account{}, errBadLink()
	}
	if err != nil {
		return Link{}, Account{}, err
	}
	if !t.Usable(p, s.now()) {
		return Link{}, Account{}, errBadLink()
	}
	a, err := s.Store.AccountByID(ctx, t.AccountID)
	if errs.Is(err, errs.NotFound) {
		return Link{}, Account{}, errBadLink()
	}
	return t, a, err
}

// Usable reports whether the token may still be used for p at now: its purpose, not
// used, not expired.
func (t Link) Usable(p Purpose, now time.Time) bool {
	return t.Purpose == p && t.UsedAt == nil && now.Before(t.ExpiresAt)
}

// SetPassword sets the password of the account a link is for, and uses the link up.
// Every other unused link of the account is used up too, and every session of the
// account ends (its session epoch rises). A bad password is errs.Invalid naming
// "password"; a bad link is errs.NotFound.
func (s *Service) SetPassword(ctx context.Context, p Purpose, secret, password string) (Account, error) {
	t, a, err := s.checkLink(ctx, p, secret)
	if err != nil {
		return Account{}, err
	}
	hash, err := s.Passwords.Hash(password)
	if err != nil {
		if errs.Is(err, errs.Invalid) {
			return Account{}, errs.E(errs.Invalid, "password: %s", strings.TrimPrefix(errs.MessageOf(err), "password: "))
		}
		return Account{}, err
	}
	if err := s.Store.UseLink(ctx, t.ID, a.ID, hash, s.now()); err != nil {
		if errs.Is(err, errs.NotFound) {
			return Account{}, errBadLink()
		}
		return Account{}, err
	}
	return s.Store.AccountByID(ctx, a.ID)
}

// Colleagues lists the accounts of the enroller's company, pending ones included.
func (s *Service) Colleagues(ctx context.Context, enroller Account) ([]Account, error) {
	if enroller.Role != Enroller || enroller.CompanyID == 0 {
		return nil, errs.E(errs.Forbidden, "staff accounts belong to no company")
	}
	return s.Store.CompanyAccounts(ctx, enroller.CompanyID)
}
