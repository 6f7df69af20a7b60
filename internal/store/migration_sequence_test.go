package store_test

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/providercall"
	"github.com/tportal/tportal/internal/store/storetest"
)

// TestSequenceFreeLogsMigration: SQLite's 00015 rebuilds the journal, the history and
// the outbox without AUTOINCREMENT (no sqlite_sequence row written per insert),
// keeping their rows and ids both ways, and new rows take ids after the kept ones.
func TestSequenceFreeLogsMigration(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, "sqlite")
	_, _, cl := seed(t, db)
	now := time.Now().UTC()
	b := booking.Booking{Reference: "TP-1", ClassID: cl.ID, State: booking.Pending, CreatedAt: now, UpdatedAt: now}
	if err := db.CreateBooking(ctx, &b, func(catalog.Class) error { return nil }); err != nil {
		t.Fatal(err)
	}
	add := func() {
		t.Helper()
		after := b
		after.State, after.UpdatedAt = booking.Reserved, time.Now()
		after.Outbox = []booking.Notification{{BookingID: b.ID, Kind: "booking_confirmed", To: "a@acme.example", CreatedAt: now}}
		calls := []providercall.Call{{At: now, ProviderID: 1, Kind: providercall.KindReserve, BookingReference: b.Reference}}
		if _, err := db.RecordReserveAnswer(ctx, calls, b, &after); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().ExecContext(ctx, `UPDATE bookings SET state = 'PENDING' WHERE id = $1`, b.ID); err != nil {
			t.Fatal(err)
		}
	}
	tables := []string{"provider_calls", "booking_events", "notifications"}
	ids := func() (out []int64) {
		t.Helper()
		for _, table := range tables {
			var n int64
			if err := db.SQL().QueryRowContext(ctx, `SELECT COALESCE(SUM(id), 0) FROM `+table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			out = append(out, n)
		}
		return out
	}
	sequences := func() int {
		t.Helper()
		var n int
		err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_sequence
			WHERE name IN ('provider_calls', 'booking_events', 'notifications')`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	add()
	add()
	if n := sequences(); n != 0 {
		t.Fatalf("after Open: %d sqlite_sequence rows for the logs, want none", n)
	}
	want := ids() // 1 + 2 in each table
	p, err := goose.NewProvider(goose.DialectSQLite3, db.SQL(), os.DirFS("migrations/sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	if rs, err := p.DownTo(ctx, 14); err != nil || len(rs) == 0 || rs[len(rs)-1].Source.Version != 15 {
		t.Fatalf("down to 14: %v, %v", rs, err)
	}
	if got := ids(); !slices.Equal(got, want) {
		t.Errorf("after down: ids %v, want %v", got, want)
	}
	if n := sequences(); n != len(tables) {
		t.Errorf("after down: %d sqlite_sequence rows for the logs, want %d (AUTOINCREMENT back)", n, len(tables))
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if got := ids(); !slices.Equal(got, want) {
		t.Errorf("after up: ids %v, want %v", got, want)
	}
	if n := sequences(); n != 0 {
		t.Errorf("after up: %d sqlite_sequence rows for the logs, want none", n)
	}
	add()
	if got := ids(); !slices.Equal(got, []int64{want[0] + 3, want[1] + 3, want[2] + 3}) {
		t.Errorf("after a new answer: id sums %v, want %v plus 3 (the new rows' id is 3)", got, want)
	}
}
