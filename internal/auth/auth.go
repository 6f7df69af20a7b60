// Package auth checks course providers' API credentials: slow password hashes, a cache
// of recently verified credentials so that each API call does not pay for the slow
// hash, and a per-client limit on failed attempts.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"

	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
)

// BcryptCost is the work factor of password hashes. Tests lower it, since the race
// detector makes each default-cost hash take about a second; nothing else should.
var BcryptCost = bcrypt.DefaultCost

// NewPassword returns a random password (130 bits, lower-case base32, easy to paste)
// and its hash.
func NewPassword() (password, hash string, err error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	password = strings.ToLower(strings.TrimRight(base32.StdEncoding.EncodeToString(b), "="))
	hash, err = HashPassword(password)
	return password, hash, err
}

// HashPassword returns the bcrypt hash of password.
func HashPassword(password string) (string, error) {
	if len(password) < 12 {
		return "", errs.E(errs.Invalid, "password: must be at least 12 characters")
	}
	if len(password) > 72 {
		return "", errs.E(errs.Invalid, "password: must be at most 72 bytes")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), BcryptCost)
	if err != nil {
		return "", errs.Wrap(err, "hash password")
	}
	return string(h), nil
}

// Lookup finds a provider by username; catalog.Store satisfies it.
type Lookup interface {
	ProviderByUsername(ctx context.Context, username string) (catalog.Provider, error)
}

// Authenticator checks a provider's username and password.
type Authenticator struct {
	lookup Lookup

	// dummyHash is compared against when the username is unknown, so that an unknown
	// user takes as long as a wrong password and usernames cannot be probed.
	dummyHash []byte

	mu       sync.Mutex
	verified map[[32]byte]time.Time // sha256(stored hash, password) -> valid until
	clients  map[string]*client
	lastGC   time.Time

	// Settings; see New for the defaults.
	CacheTTL      time.Duration
	FailuresBurst int        // failed attempts a client may make at once
	FailuresRate  rate.Limit // refill of failed attempts per second
	Now           func() time.Time
}

type client struct {
	limiter  *rate.Limiter
	lastSeen time.Time
}

// New returns an Authenticator over lookup: 10 failed attempts per client at once, then
// one every 6 seconds; verified credentials are remembered for 5 minutes.
func New(lookup Lookup) *Authenticator {
	h, _ := bcrypt.GenerateFromPassword([]byte("not a real password, only for timing"), BcryptCost)
	return &Authenticator{
		lookup:        lookup,
		dummyHash:     h,
		verified:      map[[32]byte]time.Time{},
		clients:       map[string]*client{},
		CacheTTL:      5 * time.Minute,
		FailuresBurst: 10,
		FailuresRate:  rate.Every(6 * time.Second),
		Now:           time.Now,
	}
}

// Authenticate returns the provider whose credentials these are. clientKey identifies
// the caller (its address) for the failure limit. Unknown usernames and wrong passwords
// get the same errs.Unauthorized; a client over its failure limit gets errs.RateLimited
// whether or not the credentials are right, so the limit cannot be used as an oracle.
func (a *Authenticator) Authenticate(ctx context.Context, clientKey, username, password string) (catalog.Provider, error) {
	return a.check(ctx, clientKey, username, password, func() (catalog.Provider, error) {
		return a.lookup.ProviderByUsername(ctx, username)
	})
}

// CourseLookup finds a provider and one of its courses in one query; *store.DB
// satisfies it.
type CourseLookup interface {
	// ProviderWithCourse returns errs.NotFound for an unknown username, and a nil
	// course when the provider has no course with the external id.
	ProviderWithCourse(ctx context.Context, username, externalCourseID string) (catalog.Provider, *catalog.Course, error)
}

// AuthenticateCourse is Authenticate that also returns the provider's course with the
// external id (nil when the provider has none), read in the same query as the
// provider when the Lookup is a CourseLookup. The provider row is read on every call
// either way, so a rotated password or a removed provider stops working at once on
// every instance sharing the database.
func (a *Authenticator) AuthenticateCourse(ctx context.Context, clientKey, username, password, externalCourseID string) (catalog.Provider, *catalog.Course, error) {
	cl, ok := a.lookup.(CourseLookup)
	if !ok {
		p, err := a.Authenticate(ctx, clientKey, username, password)
		return p, nil, err
	}
	var course *catalog.Course
	p, err := a.check(ctx, clientKey, username, password, func() (catalog.Provider, error) {
		p, c, err := cl.ProviderWithCourse(ctx, username, externalCourseID)
		course = c
		return p, err
	})
	if err != nil {
		return catalog.Provider{}, nil, err
	}
	return p, course, nil
}

// check runs the checks of Authenticate with find reading the provider.
func (a *Authenticator) check(ctx context.Context, clientKey, username, password string, find func() (catalog.Provider, error)) (catalog.Provider, error) {
	if a.limited(clientKey) {
		return catalog.Provider{}, errs.E(errs.RateLimited, "too many failed logins from this address; wait a few seconds and try again")
	}
	bad := errs.E(errs.Unauthorized, "wrong username or password")
	if username == "" || password == "" {
		a.fail(clientKey)
		return catalog.Provider{}, errs.E(errs.Unauthorized, "username and password are required (as parameters or HTTP Basic)")
	}
	// A username that is not valid text names no provider; it is refused before the
	// lookup (PostgreSQL would fail on it) and counted like any wrong credentials.
	if catalog.TextProblem(username, false) != "" {
		_ = bcrypt.CompareHashAndPassword(a.dummyHash, []byte(password))
		a.fail(clientKey)
		return catalog.Provider{}, bad
	}
	p, err := find()
	if errs.Is(err, errs.NotFound) {
		_ = bcrypt.CompareHashAndPassword(a.dummyHash, []byte(password))
		a.fail(clientKey)
		return catalog.Provider{}, bad
	}
	if err != nil {
		return catalog.Provider{}, err
	}
	key := sha256.Sum256([]byte(p.PasswordHash + "\x00" + password))
	if a.cached(key) {
		return p, nil
	}
	if bcrypt.CompareHashAndPassword([]byte(p.PasswordHash), []byte(password)) != nil {
		a.fail(clientKey)
		return catalog.Provider{}, bad
	}
	a.remember(key)
	return p, nil
}

func (a *Authenticator) limited(clientKey string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.clients[clientKey]
	return ok && c.limiter.TokensAt(a.Now()) < 1
}

func (a *Authenticator) fail(clientKey string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.Now()
	a.gc(now)
	c, ok := a.clients[clientKey]
	if !ok {
		c = &client{limiter: rate.NewLimiter(a.FailuresRate, a.FailuresBurst)}
		a.clients[clientKey] = c
	}
	c.lastSeen = now
	c.limiter.AllowN(now, 1)
}

func (a *Authenticator) cached(key [32]byte) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	until, ok := a.verified[key]
	return ok && a.Now().Before(until)
}

func (a *Authenticator) remember(key [32]byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.Now()
	a.gc(now)
	a.verified[key] = now.Add(a.CacheTTL)
}

// gc drops expired entries at most once a minute, so memory stays bounded by the
// number of clients and credentials seen in the last few minutes.
func (a *Authenticator) gc(now time.Time) {
	if now.Sub(a.lastGC) < time.Minute {
		return
	}
	a.lastGC = now
	for k, until := range a.verified {
		if now.After(until) {
			delete(a.verified, k)
		}
	}
	for k, c := range a.clients {
		if now.Sub(c.lastSeen) > 10*time.Minute {
			delete(a.clients, k)
		}
	}
}
