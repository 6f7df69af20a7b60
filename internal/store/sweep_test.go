package store_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/tportal/tportal/internal/store"
	"github.com/tportal/tportal/internal/store/storetest"
)

// TestSweepUsesItsIndex checks that the periodic sweep's look-up reads the
// classes_cancelled_live index rather than every live class: with 100 000 classes a
// full scan every 30 s was most of an idle portal's CPU (docs/benchmarks.md).
func TestSweepUsesItsIndex(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		db := storetest.Open(t, dialect)
		plan := queryPlan(t, db, `SELECT EXISTS (SELECT 1 FROM classes WHERE `+store.SweepDue+`)`, int64(1700000000000))
		if !strings.Contains(plan, "classes_cancelled_live") {
			t.Errorf("the sweep's look-up does not use classes_cancelled_live:\n%s", plan)
		}
	})
}

// queryPlan returns the plan the database of db chooses for q with args, one line per
// row of EXPLAIN. On PostgreSQL sequential scans are forbidden first: an empty table
// is cheapest to scan, and the plan should show whether an index can serve q at all.
func queryPlan(t *testing.T, db *store.DB, q string, args ...any) string {
	t.Helper()
	conn, err := db.SQL().Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return queryPlanOn(t, conn, db.Dialect(), q, args...)
}

// queryPlanOn is queryPlan on conn, a connection of a database of dialect: one that
// has prepared a statement can show the plan of EXECUTE.
func queryPlanOn(t *testing.T, conn *sql.Conn, dialect, q string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	explain := "EXPLAIN QUERY PLAN "
	if dialect == "postgres" {
		if _, err := conn.ExecContext(ctx, `SET enable_seqscan = off`); err != nil {
			t.Fatal(err)
		}
		defer conn.ExecContext(ctx, `RESET enable_seqscan`) //nolint:errcheck // the connection is a test's
		explain = "EXPLAIN "
	}
	rows, err := conn.QueryContext(ctx, explain+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var plan strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			if s, ok := v.(string); ok {
				plan.WriteString(s + " ")
			} else if b, ok := v.([]byte); ok {
				plan.Write(b)
				plan.WriteString(" ")
			}
		}
		plan.WriteString("\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan.String()
}
