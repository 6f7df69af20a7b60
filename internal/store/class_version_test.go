package store_test

import (
	"context"
	"database/sql"
	"strconv"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/catalog"
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

// TestClassesVersionOncePerTransaction checks PostgreSQL's row-level version trigger
// (migrations 00016 and 00018): a transaction adds to its shard row once however many
// classes of the course it writes (a shared batch, the sweep), yet every committed
// transaction still changes the version of every course it touched: the next one on
// the same connection (the same shard row and, for 00018, a remembered course of an
// earlier transaction), one whose first write was rolled back to a savepoint, one
// alternating between courses, and both courses of a class moved from one to the
// other. On SQLite, whose triggers of 00010 add one per class row written, the cases
// that need no second connection run too.
func TestClassesVersionOncePerTransaction(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := storetest.Open(t, dialect)
		p, co, a := seed(t, db)
		b := newClass(t, co, "B")
		if err := db.CreateClass(ctx, &b); err != nil {
			t.Fatal(err)
		}
		other := catalog.Course{ProviderID: p.ID, ExternalID: "OTHER", Name: "Other", CreatedAt: time.Now()}
		if err := db.CreateCourse(ctx, &other); err != nil {
			t.Fatal(err)
		}
		o := newClass(t, other, "O")
		if err := db.CreateClass(ctx, &o); err != nil {
			t.Fatal(err)
		}
		version := func(course int64) int64 {
			t.Helper()
			v, err := db.ClassesVersion(ctx, course)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		// One connection throughout: its transactions use one shard row.
		conn, err := db.SQL().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		inTx := func(step string, stmts ...string) {
			t.Helper()
			tx, err := conn.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			for _, q := range stmts {
				if _, err := tx.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %s: %v", step, q, err)
				}
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		seat := func(id int64) string {
			return `UPDATE classes SET available_seats = available_seats + 1 WHERE id = ` + strconv.FormatInt(id, 10)
		}
		added := func(step string, course int64, before int64, want int64) {
			t.Helper()
			if got := version(course) - before; got != want {
				t.Errorf("%s: the version went up by %d, want %d", step, got, want)
			}
		}

		// Migration 00018: the trigger skips its queries for a transaction's further rows
		// of the course it added for last. pg is how much the version goes up on
		// PostgreSQL (at least, at most), sqlite on SQLite (one per class row written).
		type rise struct {
			course       int64
			pgMin, pgMax int64
			sqlite       int64
		}
		for _, c := range []struct {
			name string
			txs  [][]string // each a transaction, in turn
			want []rise
		}{
			{"two classes of one course", [][]string{{seat(a.ID), seat(b.ID)}},
				[]rise{{co.ID, 1, 1, 2}, {other.ID, 0, 0, 0}}},
			{"two courses", [][]string{{seat(a.ID), seat(o.ID)}},
				[]rise{{co.ID, 1, 1, 1}, {other.ID, 1, 1, 1}}},
			// Only the last course is remembered: back to the first, it may add again.
			{"alternating courses", [][]string{{seat(a.ID), seat(o.ID), seat(b.ID)}},
				[]rise{{co.ID, 1, 2, 2}, {other.ID, 1, 1, 1}}},
			// The second transaction's rows are of the course the first one remembered.
			{"a later transaction", [][]string{{seat(a.ID), seat(b.ID)}, {seat(b.ID), seat(a.ID)}},
				[]rise{{co.ID, 2, 2, 4}, {other.ID, 0, 0, 0}}},
		} {
			before := make([]int64, len(c.want))
			for i, w := range c.want {
				before[i] = version(w.course)
			}
			for _, stmts := range c.txs {
				inTx(c.name, stmts...)
			}
			for i, w := range c.want {
				lo, hi := w.pgMin, w.pgMax
				if dialect != "postgres" {
					lo, hi = w.sqlite, w.sqlite
				}
				if got := version(w.course) - before[i]; got < lo || got > hi {
					t.Errorf("%s: the version of course %d went up by %d, want %d to %d", c.name, w.course, got, lo, hi)
				}
			}
		}
		if dialect != "postgres" {
			return // the cases below want one addition per transaction, SQLite adds one per row
		}

		v := version(co.ID)
		inTx("three writes", seat(a.ID), seat(b.ID), seat(a.ID))
		added("one transaction writing three times", co.ID, v, 1)
		v = version(co.ID)
		inTx("next transaction", seat(a.ID))
		added("the next transaction on the same shard row", co.ID, v, 1)
		v = version(co.ID)
		inTx("rolled back", "SAVEPOINT s", seat(a.ID), "ROLLBACK TO SAVEPOINT s", seat(b.ID))
		added("a write after a rolled-back one", co.ID, v, 1)
		v = version(co.ID)
		inTx("sweep", `UPDATE classes SET available_seats = available_seats WHERE course_id = `+strconv.FormatInt(co.ID, 10))
		added("one statement writing two classes", co.ID, v, 1)
		v, w := version(co.ID), version(other.ID)
		inTx("move", `UPDATE classes SET course_id = `+strconv.FormatInt(other.ID, 10)+` WHERE id = `+strconv.FormatInt(b.ID, 10))
		added("a class moved out", co.ID, v, 1)
		added("a class moved in", other.ID, w, 1)
	})
}
