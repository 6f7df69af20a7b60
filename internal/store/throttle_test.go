package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/auth"
	"github.com/tportal/tportal/internal/store"
	"github.com/tportal/tportal/internal/store/storetest"
)

// TestThrottleStepMatchesRule: AddFailure's upsert gives the same FullAt as
// auth.Bucket.Step, for failures inside, at and after a bucket's FullAt.
func TestThrottleStepMatchesRule(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := storetest.Open(t, dialect)
		rule := auth.Bucket{Every: 2 * time.Second}
		t0 := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
		var want time.Time
		for i, at := range []time.Duration{0, 0, time.Second, 4 * time.Second, 10 * time.Second, 10 * time.Second, 13 * time.Second} {
			now := t0.Add(at)
			want = rule.Step(want, now)
			got, err := db.AddFailure(ctx, "k", now, rule.Every)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(want) {
				t.Errorf("failure %d at t0+%s: FullAt %s, want %s", i, at, got, want)
			}
		}
		full, err := db.ThrottleFullAt(ctx, "other", "k", "unknown")
		if err != nil || !full.Equal(want) {
			t.Errorf("ThrottleFullAt = %s, %v; want %s", full, err, want)
		}
		if full, err := db.ThrottleFullAt(ctx, "unknown"); err != nil || !full.IsZero() {
			t.Errorf("ThrottleFullAt(unknown) = %s, %v; want the zero time", full, err)
		}
	})
}

// TestThrottleConcurrentInstances: two *store.DB on one database (two portal
// instances) count concurrent failures of one key exactly, none lost.
func TestThrottleConcurrentInstances(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		url := storetest.URL(t, dialect)
		var dbs []*store.DB
		for range 2 {
			db, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			dbs = append(dbs, db)
		}
		const perInstance, workers = 40, 4
		now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
		every := time.Second
		var wg sync.WaitGroup
		errc := make(chan error, len(dbs)*workers)
		for _, db := range dbs {
			for range workers {
				wg.Go(func() {
					for range perInstance / workers {
						if _, err := db.AddFailure(ctx, "shared", now, every); err != nil {
							errc <- err
							return
						}
					}
				})
			}
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		// All at one instant: each failure adds exactly one Every.
		want := now.Add(2 * perInstance * every)
		for i, db := range dbs {
			full, err := db.ThrottleFullAt(ctx, "shared")
			if err != nil || !full.Equal(want) {
				t.Errorf("instance %d: FullAt %s, %v; want %s (%d failures)", i+1, full, err, want, 2*perInstance)
			}
		}
	})
}

// TestDeleteFullThrottles: only the buckets full by the given instant go.
func TestDeleteFullThrottles(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := storetest.Open(t, dialect)
		t0 := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
		for i := range 5 { // key i is full at t0 + (i+1) s
			if _, err := db.AddFailure(ctx, fmt.Sprint("k", i), t0.Add(time.Duration(i)*time.Second), time.Second); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			before time.Duration
			want   int64
		}{{0, 0}, {2 * time.Second, 2}, {2 * time.Second, 0}, {time.Hour, 3}} {
			n, err := db.DeleteFullThrottles(ctx, t0.Add(tc.before))
			if err != nil || n != tc.want {
				t.Errorf("DeleteFullThrottles(t0+%s) = %d, %v; want %d", tc.before, n, err, tc.want)
			}
		}
	})
}
