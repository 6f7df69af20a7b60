package store_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/tportal/tportal/internal/store/storetest"
)

// TestClassesVersionChangesWithEveryWrite checks the rule cached class answers rely
// on (migration 00013): the version of a course's classes takes a value never seen
// before after every committed insert, update, soft or hard delete — also when
// concurrent transactions commit in another order than they wrote, and when a class
// is deleted while another is being updated. On PostgreSQL it also checks what issue
// 11 was about: a class write leaves the course row unlocked.
func TestClassesVersionChangesWithEveryWrite(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := storetest.Open(t, dialect)
		_, co, a := seed(t, db)
		seen := map[int64]string{}
		fresh := func(step string) {
			t.Helper()
			v, err := db.ClassesVersion(ctx, co.ID)
			if err != nil {
				t.Fatal(err)
			}
			if prev, ok := seen[v]; ok {
				t.Fatalf("%s: version %d already seen after %q", step, v, prev)
			}
			seen[v] = step
		}
		fresh("seed")
		ids := map[string]int64{"W40": a.ID}
		for _, ext := range []string{"B", "C", "D", "E"} {
			cl := newClass(t, co, ext)
			if err := db.CreateClass(ctx, &cl); err != nil {
				t.Fatal(err)
			}
			ids[ext] = cl.ID
			fresh("insert " + ext)
		}
		exec := func(ex interface {
			ExecContext(context.Context, string, ...any) (sql.Result, error)
		}, q string, args ...any) {
			t.Helper()
			if _, err := ex.ExecContext(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		takeSeat := `UPDATE classes SET available_seats = available_seats - 1 WHERE id = $1`
		exec(db.SQL(), takeSeat, ids["W40"])
		fresh("update W40")
		deleted, err := db.DeleteClassIfUnbooked(ctx, ids["C"])
		if err != nil || !deleted {
			t.Fatalf("delete C: %v %v", deleted, err)
		}
		fresh("delete C")
		exec(db.SQL(), `UPDATE classes SET deleted_at = 1 WHERE id = $1`, ids["E"])
		fresh("soft delete E")
		// A delete followed by an insert must not bring the sum back to a value seen.
		if _, err := db.DeleteClassIfUnbooked(ctx, ids["D"]); err != nil {
			t.Fatal(err)
		}
		fresh("delete D")
		cl := newClass(t, co, "F")
		if err := db.CreateClass(ctx, &cl); err != nil {
			t.Fatal(err)
		}
		ids["F"] = cl.ID
		fresh("insert F")

		if dialect != "postgres" {
			return // one writer: no transactions to interleave
		}
		begin := func() *sql.Tx {
			t.Helper()
			tx, err := db.SQL().BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = tx.Rollback() })
			return tx
		}
		// Commits in the other order than the writes: a scheme that took a version
		// when writing (say MAX of versions drawn from a sequence) would let the
		// second commit leave the version unchanged.
		first := begin()
		exec(first, takeSeat, ids["W40"])
		second := begin()
		exec(second, takeSeat, ids["B"])
		// Issue 11: the open class writes must not hold the course row (nor, on
		// separate connections, wait for each other: they got here).
		lock := begin()
		if _, err := lock.ExecContext(ctx, `SELECT id FROM courses WHERE id = $1 FOR NO KEY UPDATE NOWAIT`, co.ID); err != nil {
			t.Fatalf("course row locked by an open class write: %v", err)
		}
		if err := lock.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := second.Commit(); err != nil {
			t.Fatal(err)
		}
		fresh("later version committed first")
		if err := first.Commit(); err != nil {
			t.Fatal(err)
		}
		fresh("earlier version committed second")

		// A class deleted (its own commit) while another is being updated.
		upd := begin()
		exec(upd, takeSeat, ids["B"])
		if deleted, err := db.DeleteClassIfUnbooked(ctx, ids["F"]); err != nil || !deleted {
			t.Fatalf("delete F: %v %v", deleted, err)
		}
		fresh("delete F during an update of B")
		if err := upd.Commit(); err != nil {
			t.Fatal(err)
		}
		fresh("update of B committed after the delete")
	})
}
