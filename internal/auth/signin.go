package auth

import (
	"context"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"
)

// Passwords hashes and checks the passwords of web accounts with bcrypt; it satisfies
// account.Passwords.
type Passwords struct {
	once      sync.Once
	dummyHash []byte
}

// Hash returns the bcrypt hash of password (12 to 72 bytes), or errs.Invalid.
func (p *Passwords) Hash(password string) (string, error) { return HashPassword(password) }

// Matches reports whether password is the one hashed. An empty hash (no such account)
// is compared against a dummy hash, so it takes as long as a wrong password.
func (p *Passwords) Matches(hash, password string) bool {
	if hash == "" {
		p.once.Do(func() {
			p.dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a real password, only for timing"), BcryptCost)
		})
		_ = bcrypt.CompareHashAndPassword(p.dummyHash, []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// SignInThrottle slows down repeated failed sign-ins, per key (a client address, an
// e-mail address): each key may fail Burst times at once, then once per Every; a
// sign-in from a key over its limit waits until the key may try again (at most
// MaxDelay) and is then checked and answered as usual. It is the web pages'
// counterpart of Authenticator's failure limit, which refuses with 429 instead: a
// person at a browser is better served by a slow answer than by an error page, and
// an attacker learns nothing from either. It satisfies account.Throttle.
type SignInThrottle struct {
	Burst    int           // failures a key may make at once; 5 when zero
	Every    time.Duration // one more failure allowed per Every; 2 s when zero
	MaxDelay time.Duration // the longest wait; 10 s when zero

	mu     sync.Mutex
	keys   map[string]*client
	lastGC time.Time
}

func (t *SignInThrottle) settings() (int, time.Duration, time.Duration) {
	burst, every, maxDelay := t.Burst, t.Every, t.MaxDelay
	if burst <= 0 {
		burst = 5
	}
	if every <= 0 {
		every = 2 * time.Second
	}
	if maxDelay <= 0 {
		maxDelay = 10 * time.Second
	}
	return burst, every, maxDelay
}

// Delay is how long a sign-in from keys waits now: until the most limited key may
// fail again, at most MaxDelay.
func (t *SignInThrottle) Delay(keys ...string) time.Duration {
	_, _, maxDelay := t.settings()
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	var d time.Duration
	for _, k := range keys {
		c, ok := t.keys[k]
		if !ok {
			continue
		}
		r := c.limiter.ReserveN(now, 1)
		d = max(d, r.DelayFrom(now))
		r.CancelAt(now)
	}
	return min(d, maxDelay)
}

// Wait sleeps for Delay(keys), or until ctx is done.
func (t *SignInThrottle) Wait(ctx context.Context, keys ...string) error {
	d := t.Delay(keys...)
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Failed counts a failed sign-in against every key.
func (t *SignInThrottle) Failed(keys ...string) {
	burst, every, _ := t.settings()
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	if t.keys == nil {
		t.keys = map[string]*client{}
	}
	if now.Sub(t.lastGC) > time.Minute { // keep memory bounded by recent keys
		t.lastGC = now
		for k, c := range t.keys {
			if now.Sub(c.lastSeen) > 10*time.Minute {
				delete(t.keys, k)
			}
		}
	}
	for _, k := range keys {
		c, ok := t.keys[k]
		if !ok {
			c = &client{limiter: rate.NewLimiter(rate.Every(every), burst)}
			t.keys[k] = c
		}
		c.lastSeen = now
		// Take a token even when none is left, so that the next wait grows with the
		// failures; ReserveN never refuses for n <= burst.
		c.limiter.ReserveN(now, 1)
	}
}
