package auth_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tportal/tportal/internal/auth"
	"github.com/tportal/tportal/internal/store"
	"github.com/tportal/tportal/internal/store/storetest"
)

// openTwice opens one fresh database twice, as two portal instances would.
func openTwice(t testing.TB, dialect string) (*store.DB, *store.DB) {
	t.Helper()
	url := storetest.URL(t, dialect)
	var dbs [2]*store.DB
	for i := range dbs {
		db, err := store.Open(context.Background(), url)
		if err != nil {
			t.Fatalf("open %s: %v", dialect, err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	return dbs[0], dbs[1]
}

// TestSignInThrottleSharedByInstances: two portal instances on one database, each with
// its own SignInThrottle, slow down one key together.
func TestSignInThrottleSharedByInstances(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db1, db2 := openTwice(t, dialect)
		now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		rule := auth.Bucket{Burst: 2, Every: time.Minute, MaxDelay: 5 * time.Second}
		a := &auth.SignInThrottle{Bucket: rule, Store: db1, Now: clock}
		b := &auth.SignInThrottle{Bucket: rule, Store: db2, Now: clock}
		delay := func(th *auth.SignInThrottle, keys ...string) time.Duration {
			t.Helper()
			d, err := th.Delay(ctx, keys...)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		fail := func(th *auth.SignInThrottle, keys ...string) {
			t.Helper()
			if err := th.Failed(ctx, keys...); err != nil {
				t.Fatal(err)
			}
		}
		for _, step := range []struct {
			name    string
			failOn  *auth.SignInThrottle
			fail    []string
			askOn   *auth.SignInThrottle
			ask     []string
			delayed bool
		}{
			{"a fresh key waits not", nil, nil, b, []string{"client:a", "email:x"}, false},
			{"one failure on instance 1 is within the burst", a, []string{"client:a", "email:x"}, b, []string{"client:a"}, false},
			{"the second, on instance 2, uses the burst up for both", b, []string{"client:a", "email:x"}, a, []string{"client:a"}, true},
			{"the e-mail address is slowed from any client", nil, nil, a, []string{"client:c", "email:x"}, true},
			{"another client and address are not slowed", nil, nil, b, []string{"client:b", "email:y"}, false},
			{"a password reset counts under its own keys", a, []string{"reset-client:b", "reset-email:y"}, b, []string{"client:b", "email:y"}, false},
		} {
			if step.failOn != nil {
				fail(step.failOn, step.fail...)
			}
			d := delay(step.askOn, step.ask...)
			if (d > 0) != step.delayed {
				t.Errorf("%s: delay %s", step.name, d)
			}
			if d > rule.MaxDelay {
				t.Errorf("%s: delay %s beyond MaxDelay", step.name, d)
			}
		}
		for range 20 {
			fail(b, "client:a")
		}
		if d := delay(a, "client:a"); d != rule.MaxDelay {
			t.Errorf("after 22 failures: delay %s, want the cap %s", d, rule.MaxDelay)
		}

		// A new instance (a restart) remembers.
		c := &auth.SignInThrottle{Bucket: rule, Store: db2, Now: clock}
		if d := delay(c, "client:a"); d != rule.MaxDelay {
			t.Errorf("after a restart: delay %s, want %s", d, rule.MaxDelay)
		}

		// A cancelled request stops waiting.
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := a.Wait(cctx, "client:a"); err == nil {
			t.Error("Wait with a cancelled context returned nil")
		}

		// Once the buckets are full again, a failure's sweep deletes them: the
		// e-mail key y's bucket is gone, and it starts afresh.
		now = now.Add(time.Hour)
		fail(a, "email:z")
		n, err := db1.DeleteFullThrottles(ctx, now)
		if err != nil || n != 0 {
			t.Errorf("after the sweep, full buckets left: %d, %v", n, err)
		}
		full, err := db2.ThrottleFullAt(ctx, auth.ThrottleKeyForTest("client:a"), auth.ThrottleKeyForTest("email:z"))
		if err != nil || !full.Equal(now.Add(time.Minute)) {
			t.Errorf("after the sweep: FullAt %s, %v; want only email:z's bucket, full at now+1m", full, err)
		}
	})
}

// BenchmarkSignInThrottle measures what the shared slow-down adds to one failed
// sign-in (Wait and Failed on its two keys), beside the bcrypt check of a wrong
// password at the production cost (bcrypt.DefaultCost; the package's tests lower
// BcryptCost, so the hash is made here). Compare ns/op of the throttle sub-benchmarks
// to bcrypt's in the same run.
func BenchmarkSignInThrottle(b *testing.B) {
	b.Run("bcrypt", func(b *testing.B) {
		var p auth.Passwords
		hash, err := bcrypt.GenerateFromPassword([]byte("correct horse battery"), bcrypt.DefaultCost)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if p.Matches(string(hash), "wrong horse battery") {
				b.Fatal("a wrong password matched")
			}
		}
	})
	for _, dialect := range storetest.Dialects() {
		b.Run("throttle/"+dialect, func(b *testing.B) {
			ctx := context.Background()
			db := storetest.Open(b, dialect)
			// Every failure from its own client and address, so nobody waits: the cost
			// measured is the database work, not the slow-down itself.
			th := &auth.SignInThrottle{Store: db}
			i := 0
			for b.Loop() {
				i++
				keys := []string{fmt.Sprint("client:192.0.2.", i), fmt.Sprint("email:kari", i, "@acme.example")}
				if err := th.Wait(ctx, keys...); err != nil {
					b.Fatal(err)
				}
				if err := th.Failed(ctx, keys...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
