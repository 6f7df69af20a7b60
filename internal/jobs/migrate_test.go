package jobs_test

import (
	"context"
	"sync"
	"testing"

	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/jobs"
	"github.com/tportal/tportal/internal/store"
	"github.com/tportal/tportal/internal/store/storetest"
)

// Four instances that start at once on one database all get a working job runner:
// the portal's and River's migrations run under one cross-process lock, so none of
// them fails on tables or types another one is creating (issue 7, item 7). Both a
// fresh database and one whose portal tables an admin command already made (River's
// not yet) are tried.
func TestInstancesStartingTogether(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		for _, tc := range []struct {
			name     string
			existing bool
		}{{"fresh database", false}, {"portal tables already made", true}} {
			t.Run(tc.name, func(t *testing.T) {
				ctx := context.Background()
				dbURL := storetest.URL(t, dialect)
				if tc.existing {
					db, err := store.Open(ctx, dbURL)
					if err != nil {
						t.Fatal(err)
					}
					db.Close()
				}
				const instances = 4
				errc := make(chan error, instances)
				var wg sync.WaitGroup
				for range instances {
					wg.Go(func() {
						db, err := store.Open(ctx, dbURL)
						if err != nil {
							errc <- err
							return
						}
						t.Cleanup(func() { db.Close() })
						r, err := jobs.New(ctx, db.SQL(), db.Dialect(), bookingService(db), &catalog.Service{Store: db},
							jobs.Options{Logger: quiet, MigrationLock: db.WithMigrationLock})
						if err != nil {
							errc <- err
							return
						}
						if err := r.Start(ctx); err != nil {
							errc <- err
							return
						}
						errc <- r.Stop(ctx)
					})
				}
				wg.Wait()
				close(errc)
				for err := range errc {
					if err != nil {
						t.Errorf("an instance failed to start: %v", err)
					}
				}
			})
		}
	})
}
