// Package account is the domain of the people who use the portal's web pages:
// companies, the enrollers who book for them, and portal staff. It holds the types,
// the sign-up and sign-in rules and the Service that applies them over a Store; it
// does no I/O of its own (password hashing and the sign-in slow-down come in as
// interfaces, implemented in internal/auth).
package account

import (
	"context"
	"log/slog"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
)

// Role is what an account may do.
type Role string

// The roles.
const (
	Enroller Role = "enroller" // books for its company and sees the company's bookings
	Staff    Role = "staff"    // runs the marketplace; belongs to no company
)

// Company is a customer of the marketplace: its enrollers book seats for its people.
type Company struct {
	ID        int64
	Name      string
	CreatedAt time.Time
}

// Account is a person who signs in to the web pages.
type Account struct {
	ID           int64
	CompanyID    int64 // 0 for staff
	Email        string
	FirstName    string
	LastName     string
	Phone        string
	PasswordHash string // a slow hash; the password itself is never stored
	Role         Role
	CreatedAt    time.Time
	// SessionEpoch is raised whenever the password is set through a link: a session
	// started under an older epoch is no longer signed in.
	SessionEpoch int64
}

// Pending reports whether the account was invited and has not set its password yet;
// it cannot sign in until it does.
func (a Account) Pending() bool { return a.PasswordHash == "" }

// Name is the account holder's full name.
func (a Account) Name() string { return strings.TrimSpace(a.FirstName + " " + a.LastName) }

// NameKey folds a company name for comparison, so that "Acme AS" and " acme  as" are
// the same company: trimmed, inner spaces collapsed, lower case.
func NameKey(name string) string { return strings.ToLower(strings.Join(strings.Fields(name), " ")) }

// Store keeps companies and accounts. Not-found is errs.NotFound.
type Store interface {
	// CreateCompanyAccount stores a new company and its first account in one
	// transaction and sets their IDs; a taken company name or e-mail is errs.Conflict.
	CreateCompanyAccount(ctx context.Context, c *Company, a *Account) error
	// CreateAccount stores an account (staff, or another enroller of an existing company).
	CreateAccount(ctx context.Context, a *Account) error
	// AccountByEmail looks an account up by its lower-cased e-mail address.
	AccountByEmail(ctx context.Context, email string) (Account, error)
	// AccountByID returns the account with the id.
	AccountByID(ctx context.Context, id int64) (Account, error)
	// CompanyByID returns the company with the id.
	CompanyByID(ctx context.Context, id int64) (Company, error)
	// CompanyAccounts lists a company's accounts by name.
	CompanyAccounts(ctx context.Context, companyID int64) ([]Account, error)
	// CreateInvitation stores a's link token t in one transaction, first storing a
	// itself when it is new (ID 0); it sets both IDs. A taken e-mail is errs.Conflict.
	CreateInvitation(ctx context.Context, a *Account, t *Link) error
	// CreateLink stores a link token and sets its ID.
	CreateLink(ctx context.Context, t *Link) error
	// LinkByHash returns the link token with the hash.
	LinkByHash(ctx context.Context, hash string) (Link, error)
	// UseLink redeems the unused token id of account accountID in one transaction:
	// it sets the password hash, raises the account's session epoch and marks every
	// unused token of the account used at now. A token used meanwhile is errs.NotFound.
	UseLink(ctx context.Context, id, accountID int64, passwordHash string, now time.Time) error
}

// Passwords hashes and checks passwords; internal/auth implements it with bcrypt.
type Passwords interface {
	// Hash returns the slow hash of a password, or errs.Invalid naming the rule it breaks.
	Hash(password string) (string, error)
	// Matches reports whether password is the one hashed; an empty hash (no such
	// account) takes as long as a real one and never matches.
	Matches(hash, password string) bool
}

// Throttle slows down repeated failed sign-ins: Wait delays a sign-in from keys that
// failed recently, Failed counts a failure. A slowed-down sign-in is answered exactly
// like any other, so the slow-down tells an attacker nothing. internal/auth keeps the
// counts in the database, shared by all portal instances; an error is its storage's.
type Throttle interface {
	Wait(ctx context.Context, keys ...string) error
	Failed(ctx context.Context, keys ...string) error
}

// Service applies the account rules.
type Service struct {
	Store     Store
	Passwords Passwords
	Throttle  Throttle         // nil: no slow-down
	Mailer    Mailer           // nil: no mail is sent (see RequestPasswordReset)
	Logger    *slog.Logger     // slog.Default() when nil; for mail that could not be sent
	Now       func() time.Time // time.Now when nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// SignUp is what a new company's first enroller fills in.
type SignUp struct {
	Company   string
	FirstName string
	LastName  string
	Email     string
	Phone     string
	Password  string
}

// fieldProblems collects "field: message" problems in the shape every adapter shows
// next to its field.
type fieldProblems []string

func (p *fieldProblems) add(field, msg string) { *p = append(*p, field+": "+msg) }

func (p fieldProblems) err() error {
	if len(p) == 0 {
		return nil
	}
	return errs.E(errs.Invalid, "%s", strings.Join(p, "; "))
}

// checkText applies the portal's text rule and a length limit to a one-line field.
func checkText(p *fieldProblems, field, v string, required bool, limit int) {
	switch {
	case v == "" && required:
		p.add(field, "is required")
	case catalog.TextProblem(v, false) != "":
		p.add(field, catalog.TextProblem(v, false))
	case utf8.RuneCountInString(v) > limit:
		p.add(field, catalog.TooLong(v, limit))
	}
}

// normalise trims the fields and lower-cases the e-mail address.
func (u *SignUp) normalise() {
	u.Company = strings.Join(strings.Fields(u.Company), " ")
	u.FirstName, u.LastName = strings.TrimSpace(u.FirstName), strings.TrimSpace(u.LastName)
	u.Email, u.Phone = strings.ToLower(strings.TrimSpace(u.Email)), strings.TrimSpace(u.Phone)
}

// validate names every bad field.
func (u *SignUp) validate() fieldProblems {
	var p fieldProblems
	checkText(&p, "company", u.Company, true, 200)
	checkText(&p, "firstName", u.FirstName, true, 200)
	checkText(&p, "lastName", u.LastName, true, 200)
	checkText(&p, "phone", u.Phone, false, 50)
	if u.Email == "" {
		p.add("email", "is required")
	} else if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email || len(u.Email) > 254 {
		p.add("email", "is not an e-mail address")
	}
	return p
}

// SignUp registers a new company with its first enroller and returns the account.
// Company names and e-mail addresses are unique (errs.Conflict naming which).
func (s *Service) SignUp(ctx context.Context, u SignUp) (Account, error) {
	u.normalise()
	problems := u.validate()
	hash, err := s.Passwords.Hash(u.Password)
	if err != nil {
		if !errs.Is(err, errs.Invalid) {
			return Account{}, err
		}
		problems.add("password", strings.TrimPrefix(errs.MessageOf(err), "password: "))
	}
	if err := problems.err(); err != nil {
		return Account{}, err
	}
	now := s.now()
	c := Company{Name: u.Company, CreatedAt: now}
	a := Account{Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, Phone: u.Phone,
		PasswordHash: hash, Role: Enroller, CreatedAt: now}
	if err := s.Store.CreateCompanyAccount(ctx, &c, &a); err != nil {
		return Account{}, err
	}
	return a, nil
}

// AddStaff creates a staff account (from the command line; staff belong to no company).
func (s *Service) AddStaff(ctx context.Context, firstName, lastName, email, password string) (Account, error) {
	u := SignUp{Company: "-", FirstName: firstName, LastName: lastName, Email: email}
	u.normalise()
	problems := u.validate()
	hash, err := s.Passwords.Hash(password)
	if err != nil {
		if !errs.Is(err, errs.Invalid) {
			return Account{}, err
		}
		problems.add("password", strings.TrimPrefix(errs.MessageOf(err), "password: "))
	}
	if err := problems.err(); err != nil {
		return Account{}, err
	}
	a := Account{Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, PasswordHash: hash, Role: Staff, CreatedAt: s.now()}
	return a, s.Store.CreateAccount(ctx, &a)
}

// errWrongCredentials is the one answer to every failed sign-in.
func errWrongCredentials() error {
	return errs.E(errs.Unauthorized, "wrong e-mail address or password")
}

// SignIn returns the account whose e-mail and password these are. clientKey names the
// caller (its address) for the slow-down, which also applies per e-mail address, so
// that guessing one account's password from many addresses is slowed too. An unknown
// address and a wrong password get the same errs.Unauthorized, after the same work.
func (s *Service) SignIn(ctx context.Context, clientKey, email, password string) (Account, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	keys := []string{"client:" + clientKey, "email:" + email}
	if s.Throttle != nil {
		if err := s.Throttle.Wait(ctx, keys...); err != nil {
			return Account{}, err
		}
	}
	fail := func() (Account, error) {
		if s.Throttle != nil {
			if err := s.Throttle.Failed(ctx, keys...); err != nil {
				return Account{}, err
			}
		}
		return Account{}, errWrongCredentials()
	}
	if email == "" || password == "" || catalog.TextProblem(email, false) != "" || len(email) > 254 {
		s.Passwords.Matches("", password)
		return fail()
	}
	a, err := s.Store.AccountByEmail(ctx, email)
	if errs.Is(err, errs.NotFound) {
		s.Passwords.Matches("", password)
		return fail()
	}
	if err != nil {
		return Account{}, err
	}
	if !s.Passwords.Matches(a.PasswordHash, password) {
		return fail()
	}
	return a, nil
}

// Account returns the account with the id, for a signed-in session.
func (s *Service) Account(ctx context.Context, id int64) (Account, error) {
	return s.Store.AccountByID(ctx, id)
}

// Company returns the company with the id.
func (s *Service) Company(ctx context.Context, id int64) (Company, error) {
	return s.Store.CompanyByID(ctx, id)
}
