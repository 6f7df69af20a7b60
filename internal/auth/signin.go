package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
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

// Bucket is the rule of the sign-in slow-down, a token bucket per key (a client
// address, an e-mail address): a key may fail Burst times at once, then once more per
// Every; an attempt from a key over its limit waits until the key may fail again, at
// most MaxDelay, and is then answered as usual, never refused.
//
// A bucket's whole state is one instant, FullAt: when the bucket is full again, all
// its failures forgiven (the "theoretical arrival time" of the generic cell rate
// algorithm). One number suits an atomic upsert in SQL, and a bucket with FullAt in
// the past is the same as none, so such rows can simply be deleted.
type Bucket struct {
	Burst    int           // failures a key may make at once; 5 when zero
	Every    time.Duration // one more failure allowed per Every; 2 s when zero
	MaxDelay time.Duration // the longest wait; 10 s when zero
}

// withDefaults fills in the zero fields.
func (b Bucket) withDefaults() Bucket {
	if b.Burst <= 0 {
		b.Burst = 5
	}
	if b.Every <= 0 {
		b.Every = 2 * time.Second
	}
	if b.MaxDelay <= 0 {
		b.MaxDelay = 10 * time.Second
	}
	return b
}

// Step is a bucket's FullAt after one more failure at now: a full bucket (FullAt
// before now, or zero) starts from now, and every failure adds Every, also beyond the
// burst, so that the wait grows with the failures. ThrottleStore.AddFailure applies
// exactly this step, atomically, in the database.
func (b Bucket) Step(fullAt, now time.Time) time.Time {
	b = b.withDefaults()
	if fullAt.Before(now) {
		fullAt = now
	}
	return fullAt.Add(b.Every)
}

// Delay is how long an attempt at now waits for a key whose bucket is full at fullAt:
// until one failure more fits in the burst, at most MaxDelay.
func (b Bucket) Delay(fullAt, now time.Time) time.Duration {
	b = b.withDefaults()
	if !fullAt.After(now) { // full (or no bucket): and Sub would saturate for the zero time
		return 0
	}
	d := fullAt.Sub(now) - time.Duration(b.Burst-1)*b.Every
	return min(max(d, 0), b.MaxDelay)
}

// ThrottleStore keeps the buckets of SignInThrottle where every portal instance sees
// them: internal/store, in the portal's database. It only ever sees hashes of keys.
type ThrottleStore interface {
	// AddFailure sets the bucket of keyHash to Bucket.Step with every, atomically
	// (concurrent failures from several instances are all counted), and returns the
	// new FullAt; a key without a bucket gets one, full at now+every.
	AddFailure(ctx context.Context, keyHash string, now time.Time, every time.Duration) (time.Time, error)
	// ThrottleFullAt returns the latest FullAt of the buckets of keyHashes; the zero
	// time when none has one.
	ThrottleFullAt(ctx context.Context, keyHashes ...string) (time.Time, error)
	// DeleteFullThrottles deletes the buckets full at or before, which have no effect
	// any more, and returns how many there were.
	DeleteFullThrottles(ctx context.Context, before time.Time) (int64, error)
}

// SweepEvery is how often SignInThrottle deletes full buckets from its store, at most.
const SweepEvery = time.Minute

// SignInThrottle slows down repeated failed sign-ins by the rule of Bucket, with the
// buckets in a ThrottleStore shared by all portal instances on one database, so that
// several instances behind a load balancer do not multiply an attacker's attempts, and
// a restart forgets nothing. It is the web pages' counterpart of Authenticator's
// failure limit, which refuses with 429 instead: a person at a browser is better
// served by a slow answer than by an error page, and an attacker learns nothing from
// either. It satisfies account.Throttle.
type SignInThrottle struct {
	Bucket
	Store ThrottleStore    // required
	Now   func() time.Time // time.Now when nil

	mu        sync.Mutex
	lastSweep time.Time
}

func (t *SignInThrottle) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// throttleKey is what the store keeps of a key: its SHA-256, since keys are e-mail
// and client addresses, which are personal data.
func throttleKey(key string) string {
	sum := sha256.Sum256([]byte("tportal sign-in throttle\x00" + key))
	return hex.EncodeToString(sum[:])
}

func throttleKeys(keys []string) []string {
	hashes := make([]string, len(keys))
	for i, k := range keys {
		hashes[i] = throttleKey(k)
	}
	return hashes
}

// Delay is how long a sign-in from keys waits now: until the most limited key may
// fail again, at most MaxDelay.
func (t *SignInThrottle) Delay(ctx context.Context, keys ...string) (time.Duration, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	fullAt, err := t.Store.ThrottleFullAt(ctx, throttleKeys(keys)...)
	if err != nil {
		return 0, err
	}
	return t.Bucket.Delay(fullAt, t.now()), nil
}

// Wait sleeps for Delay(keys), or until ctx is done.
func (t *SignInThrottle) Wait(ctx context.Context, keys ...string) error {
	d, err := t.Delay(ctx, keys...)
	if err != nil || d <= 0 {
		return err
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

// Failed counts a failed sign-in against every key. Once per SweepEvery it also
// deletes the buckets that are full again, so the table holds only recent keys.
func (t *SignInThrottle) Failed(ctx context.Context, keys ...string) error {
	now := t.now()
	every := t.withDefaults().Every
	var errList []error
	for _, h := range throttleKeys(keys) {
		if _, err := t.Store.AddFailure(ctx, h, now, every); err != nil {
			errList = append(errList, err)
		}
	}
	t.mu.Lock()
	sweep := now.Sub(t.lastSweep) >= SweepEvery
	if sweep {
		t.lastSweep = now
	}
	t.mu.Unlock()
	if sweep {
		if _, err := t.Store.DeleteFullThrottles(ctx, now); err != nil {
			errList = append(errList, err)
		}
	}
	return errors.Join(errList...)
}
