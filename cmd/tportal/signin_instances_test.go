package main

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/store"
	"github.com/tportal/tportal/internal/store/storetest"
)

// TestSignInSlowDownSharedByInstances: serve counts failed sign-ins in the database, so
// failures through two `tportal serve` processes on one database add up in one bucket
// per key (the client's address, the e-mail address), and nothing of the keys is kept
// in the clear. The bounds on full_at follow from the rule (each failure adds 2 s to
// max(full_at, now)), not from how long anything took.
func TestSignInSlowDownSharedByInstances(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		dbURL := storetest.URL(t, dialect)
		urls := startServes(t, 2, []string{"TPORTAL_DB=" + dbURL})
		const failures, every = 3, 2 * time.Second
		before := time.Now()
		for i := range failures {
			res, err := http.PostForm(urls[i%2]+"/signin", url.Values{"email": {"kari@acme.example"}, "password": {"not the password"}})
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("sign-in %d through instance %d: %s, want 401", i+1, i%2+1, res.Status)
			}
		}
		after := time.Now()

		db, err := store.Open(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := db.SQL().Query(`SELECT key_hash, full_at FROM signin_throttle`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var key string
			var fullAt int64
			if err := rows.Scan(&key, &fullAt); err != nil {
				t.Fatal(err)
			}
			n++
			if len(key) != 64 {
				t.Errorf("key %q is not a SHA-256", key)
			}
			lo, hi := before.Add(failures*every).UnixMilli()-1, after.Add(failures*every).UnixMilli()
			if fullAt < lo || fullAt > hi {
				t.Errorf("full_at %d outside [%d, %d]: not all %d failures of both instances counted", fullAt, lo, hi, failures)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Errorf("%d buckets, want 2 (the client address and the e-mail address)", n)
		}
	})
}
