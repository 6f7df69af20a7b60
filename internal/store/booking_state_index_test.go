package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/store"
	"github.com/tportal/tportal/internal/store/storetest"
)

// TestPendingLookupsUseTheStateIndex: bookings_state holds only the bookings in the
// rare states (migration 00017), and PostgreSQL uses a partial index only for a
// condition it can prove implies the index's. The look-ups of PENDING bookings (the
// sweep's AbandonStale, a provider's HasPendingBooking) must keep such a condition,
// in the plan made for their values and in the generic plan a prepared statement
// keeps, or they would silently read the whole table.
func TestPendingLookupsUseTheStateIndex(t *testing.T) {
	if os.Getenv(storetest.EnvPostgres) == "" {
		t.Skip("PostgreSQL only; set TPORTAL_TEST_POSTGRES")
	}
	ctx := context.Background()
	db := storetest.Open(t, "postgres")
	p, _, cl := seed(t, db)
	// Statistics as in use: most bookings RESERVED or COMPLETED, a few in the others.
	if _, err := db.SQL().ExecContext(ctx, `INSERT INTO bookings (reference, class_id, state, created_at, updated_at)
		SELECT 'TP-' || g, $1, CASE WHEN g % 500 = 0 THEN 'PENDING' WHEN g % 50 = 0 THEN 'FAILED'
			WHEN g % 3 = 0 THEN 'COMPLETED' ELSE 'RESERVED' END, g, g
		FROM generate_series(1, 5000) g`, cl.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().ExecContext(ctx, `ANALYZE bookings`); err != nil {
		t.Fatal(err)
	}
	var def string
	if err := db.SQL().QueryRowContext(ctx, `SELECT pg_get_indexdef('bookings_state'::regclass)`).Scan(&def); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(def, "WHERE") {
		t.Fatalf("bookings_state is not partial: %s", def)
	}

	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stale, staleArgs := store.BookingsQuery(booking.Filter{States: []booking.State{booking.Pending},
		CreatedBefore: time.Now(), Limit: 500}) // as booking.Service.AbandonStale
	for i, c := range []struct {
		name, query string
		args        []any
	}{
		{"AbandonStale", stale, staleArgs},
		{"HasPendingBooking", store.HasPendingBookingQuery, []any{p.ID}},
	} {
		custom := queryPlanOn(t, conn, "postgres", c.query, c.args...)
		if !strings.Contains(custom, "bookings_state") {
			t.Errorf("%s: the plan for its values does not use bookings_state:\n%s\n%s", c.name, c.query, custom)
		}
		name := fmt.Sprintf("pending_lookup_%d", i)
		exec(t, conn, `PREPARE `+name+` AS `+c.query)
		exec(t, conn, `SET plan_cache_mode = force_generic_plan`)
		generic := queryPlanOn(t, conn, "postgres", `EXECUTE `+name+`(`+literals(t, c.args)+`)`)
		exec(t, conn, `RESET plan_cache_mode`)
		exec(t, conn, `DEALLOCATE `+name)
		if !strings.Contains(generic, "bookings_state") {
			t.Errorf("%s: the generic plan does not use bookings_state:\n%s\n%s", c.name, c.query, generic)
		}
	}
}

// exec runs q on conn.
func exec(t *testing.T, conn *sql.Conn, q string) {
	t.Helper()
	if _, err := conn.ExecContext(context.Background(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// literals writes args as EXECUTE's argument list.
func literals(t *testing.T, args []any) string {
	t.Helper()
	out := make([]string, len(args))
	for i, a := range args {
		switch a.(type) {
		case int, int64:
			out[i] = fmt.Sprint(a)
		case string:
			out[i] = "'" + strings.ReplaceAll(a.(string), "'", "''") + "'"
		default:
			t.Fatalf("no literal for an argument of type %T", a)
		}
	}
	return strings.Join(out, ", ")
}
