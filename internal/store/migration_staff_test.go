package store_test

import (
	"context"
	"os"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/tportal/tportal/internal/store/storetest"
)

// TestStaffHistoryMigrationDown: 00008 goes down and up again on both databases,
// taking booking_events and the journal's new columns with it.
func TestStaffHistoryMigrationDown(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := storetest.Open(t, dialect)
		gd := goose.DialectSQLite3
		if dialect == "postgres" {
			gd = goose.DialectPostgres
		}
		p, err := goose.NewProvider(gd, db.SQL(), os.DirFS("migrations/"+dialect))
		if err != nil {
			t.Fatal(err)
		}
		has := func() (events, column bool) {
			_, errEvents := db.SQL().ExecContext(ctx, `SELECT 1 FROM booking_events`)
			_, errColumn := db.SQL().ExecContext(ctx, `SELECT answer_body FROM provider_calls`)
			return errEvents == nil, errColumn == nil
		}
		if e, c := has(); !e || !c {
			t.Fatalf("after Open: booking_events %v, answer_body %v", e, c)
		}
		// Down to the version before it, whatever came after.
		rs, err := p.DownTo(ctx, 7)
		if err != nil || len(rs) == 0 || rs[len(rs)-1].Source.Version != 8 {
			t.Fatalf("down to 7: %v, %v", rs, err)
		}
		if e, c := has(); e || c {
			t.Errorf("after down: booking_events %v, answer_body %v", e, c)
		}
		if _, err := p.Up(ctx); err != nil {
			t.Fatalf("up again: %v", err)
		}
		if e, c := has(); !e || !c {
			t.Errorf("after up: booking_events %v, answer_body %v", e, c)
		}
	})
}
