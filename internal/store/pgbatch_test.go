package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/providercall"
	"github.com/tportal/tportal/internal/store"
)

// pgBatchFixture is a PostgreSQL store whose batch slots are all taken by writes of
// a class that another connection holds locked, so that the writes started next
// queue in one batch, sent when unlock is called.
type pgBatchFixture struct {
	t      *testing.T
	db     *store.DB
	raw    *sql.DB
	course catalog.Course
	unlock func()
	// blocked reports the outcomes of the writes holding the slots, once unlocked.
	blocked chan error
}

func newPGBatchFixture(t *testing.T) pgBatchFixture {
	t.Helper()
	db, url := openPostgres(t)
	_, co, locked := seed(t, db)
	raw, unlock := lockClassRow(t, url, locked.ID)
	f := pgBatchFixture{t: t, db: db, raw: raw, course: co, unlock: unlock, blocked: make(chan error, store.PGBatchInFlight)}
	for i := range store.PGBatchInFlight {
		go func() {
			_, err := db.ModifyClass(context.Background(), co.ID, locked.ExternalID, func(c *catalog.Class) error {
				c.AvailableSeats = 20 + i
				return nil
			}, nil)
			f.blocked <- err
		}()
	}
	f.queued(nil)
	return f
}

// queued waits until every slot is taken and the batches waiting have these sizes.
func (f pgBatchFixture) queued(want []int) {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		sending, sizes := f.db.PGBatchesWaiting()
		if sending == store.PGBatchInFlight && slices.Equal(sizes, want) {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("%d sending, batches of %v waiting; want %d sending, %v waiting", sending, sizes, store.PGBatchInFlight, want)
		}
		time.Sleep(time.Millisecond)
	}
}

// release unlocks the class and checks that the writes that held the slots succeeded.
func (f pgBatchFixture) release() {
	f.t.Helper()
	f.unlock()
	for range store.PGBatchInFlight {
		if err := <-f.blocked; err != nil {
			f.t.Errorf("a write holding a slot: %v", err)
		}
	}
}

// classes creates the classes ids, outside any batch, for the updates of a test.
func (f pgBatchFixture) classes(ids ...string) {
	f.t.Helper()
	// The slots are taken: they are copies of the seeded class, written directly.
	for _, id := range ids {
		if _, err := f.raw.Exec(`INSERT INTO classes (course_id, external_id, location, available_seats,
			enrollment_deadline, cancellation_deadline, start_date, start_time, end_date, end_time, time_zone,
			starts_at, enrollment_closes_at, cancellation_closes_at, address_line1, address_line2, city, zip_code,
			country, currency, amount_minor, send_schedule_info, created_at, updated_at)
			SELECT course_id, $1, location, available_seats, enrollment_deadline, cancellation_deadline, start_date,
			start_time, end_date, end_time, time_zone, starts_at, enrollment_closes_at, cancellation_closes_at,
			address_line1, address_line2, city, zip_code, country, currency, amount_minor, send_schedule_info,
			created_at, updated_at FROM classes WHERE course_id = $2 AND external_id = 'W40'`, id, f.course.ID); err != nil {
			f.t.Fatal(err)
		}
	}
}

// seatsOf reads a class's seats on the fixture's own connection, -1 when it is not stored.
func (f pgBatchFixture) seatsOf(externalID string) (seats int, id int64) {
	f.t.Helper()
	err := f.raw.QueryRow(`SELECT available_seats, id FROM classes WHERE course_id = $1 AND external_id = $2`,
		f.course.ID, externalID).Scan(&seats, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return -1, 0
	}
	if err != nil {
		f.t.Fatal(err)
	}
	return seats, id
}

// pgBatchResult is one write's outcome in a batch test.
type pgBatchResult struct {
	class catalog.Class
	err   error
}

// TestPGBatchShared: writes arriving while the slots are taken go out in one batch,
// and each caller gets its own statement's result: an update its class as written,
// an insert its own row's id.
func TestPGBatchShared(t *testing.T) {
	f := newPGBatchFixture(t)
	ctx := context.Background()
	f.classes("U0", "U1", "U2")
	results := make([]pgBatchResult, 6)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[i]
			if i%2 == 0 { // an update: a read, then its conditional UPDATE, batched
				r.class, r.err = f.db.ModifyClass(ctx, f.course.ID, fmt.Sprintf("U%d", i/2), func(c *catalog.Class) error {
					c.AvailableSeats = 100 + i
					return nil
				}, nil)
				return
			}
			r.class = newClass(t, f.course, fmt.Sprintf("N%d", i))
			r.class.AvailableSeats = 100 + i
			r.err = f.db.CreateClass(ctx, &r.class)
		}()
		f.queued([]int{i + 1})
	}
	f.release()
	wg.Wait()
	for i, r := range results {
		if r.err != nil {
			t.Errorf("write %d: %v", i, r.err)
			continue
		}
		seats, id := f.seatsOf(r.class.ExternalID)
		if seats != 100+i || r.class.AvailableSeats != 100+i || id != r.class.ID {
			t.Errorf("write %d: class %s stored with %d seats, id %d; its caller got %d seats, id %d; want %d seats",
				i, r.class.ExternalID, seats, id, r.class.AvailableSeats, r.class.ID, 100+i)
		}
	}
}

// TestPGBatchMemberFails: a duplicate class in a batch rolls the batch back; each
// write then runs alone, the duplicate gets its own conflict and the others succeed.
func TestPGBatchMemberFails(t *testing.T) {
	f := newPGBatchFixture(t)
	ctx := context.Background()
	names := []string{"A", "W40", "B", "A"} // W40 is stored; the second A duplicates the first
	results := make([]pgBatchResult, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i].class = newClass(t, f.course, name)
			results[i].err = f.db.CreateClass(ctx, &results[i].class)
		}()
		f.queued([]int{i + 1})
	}
	f.release()
	wg.Wait()
	// Alone, the two A race: either may be the one created.
	for i, r := range results {
		conflict := errs.CodeOf(r.err) == errs.Conflict
		switch {
		case r.err != nil && !conflict:
			t.Errorf("class %s (write %d): %v", names[i], i, r.err)
		case conflict != (i == 1) && names[i] != "A":
			t.Errorf("class %s (write %d): %v, want a conflict only for W40", names[i], i, r.err)
		case r.err == nil:
			if _, id := f.seatsOf(names[i]); id != r.class.ID {
				t.Errorf("class %s (write %d): got id %d, stored as %d", names[i], i, r.class.ID, id)
			}
		}
	}
	if a0, a3 := results[0].err == nil, results[3].err == nil; a0 == a3 {
		t.Errorf("the two A: %v and %v, want one created and one conflict", results[0].err, results[3].err)
	}
}

// TestPGBatchNotInTransaction: a write inside a caller's transaction runs in it, not
// in a batch: with every slot taken it neither queues nor waits.
func TestPGBatchNotInTransaction(t *testing.T) {
	f := newPGBatchFixture(t)
	ctx := context.Background()
	tx, err := f.raw.BeginTx(ctx, nil) // only carried: CreateClass on PostgreSQL writes outside it
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	done := make(chan error, 1)
	go func() {
		cl := newClass(t, f.course, "INTX")
		done <- f.db.CreateClass(f.db.WithTx(ctx, tx), &cl)
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("create in a transaction: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("a write in a caller's transaction waited for a batch")
		f.release()
		<-done
		return
	}
	if _, sizes := f.db.PGBatchesWaiting(); len(sizes) > 0 {
		t.Errorf("batches of %v waiting, want none", sizes)
	}
	f.release()
}

// TestPGBatchCancelled: a write whose context ends before its batch is sent writes
// nothing and gets its context's error: at once while it waits, or, for the write
// that sends the batch, when the batch goes; the rest of its batch is written.
func TestPGBatchCancelled(t *testing.T) {
	f := newPGBatchFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	names := []string{"LEADER", "KEPT1", "GONE", "KEPT2"}
	errc := make(map[string]chan error)
	for i, name := range names {
		c := context.Background()
		if name == "LEADER" || name == "GONE" {
			c = ctx
		}
		errc[name] = make(chan error, 1)
		go func() {
			cl := newClass(t, f.course, name)
			errc[name] <- f.db.CreateClass(c, &cl)
		}()
		f.queued([]int{i + 1})
	}
	cancel()
	select {
	case err := <-errc["GONE"]:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the cancelled write returned %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the cancelled write waited for its batch")
	}
	f.queued([]int{3})
	f.release()
	for name, want := range map[string]bool{"LEADER": false, "KEPT1": true, "GONE": false, "KEPT2": true} {
		if name != "GONE" {
			if err := <-errc[name]; want != (err == nil) || !want && !errors.Is(err, context.Canceled) {
				t.Errorf("write %s: %v", name, err)
			}
		}
		if seats, _ := f.seatsOf(name); (seats >= 0) != want {
			t.Errorf("class %s stored: %v, want %v", name, seats >= 0, want)
		}
	}
}

// TestPGBatchReserveAnswers: reserve answers in one batch each write their own
// journal entry and booking, and each caller learns whether its own booking was
// still in the state it expected.
func TestPGBatchReserveAnswers(t *testing.T) {
	f := newPGBatchFixture(t)
	ctx := context.Background()
	f.classes("BOOKED")
	_, classID := f.seatsOf("BOOKED")
	now := time.Now().UTC().Truncate(time.Millisecond)
	refs := []string{"TP-1", "TP-2", "TP-3"}
	befores := make([]booking.Booking, len(refs))
	for i, ref := range refs {
		befores[i] = booking.Booking{Reference: ref, ClassID: classID, State: booking.Pending, CreatedAt: now, UpdatedAt: now,
			Enroller: booking.Person{Email: "kari@acme.example"}}
		if err := f.db.CreateBooking(ctx, &befores[i], func(catalog.Class) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	befores[1].State = booking.Reserved // as if answered meanwhile: TP-2 is not written
	updated := make([]bool, len(refs))
	failed := make([]error, len(refs))
	var wg sync.WaitGroup
	for i, ref := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			after := befores[i]
			after.State, after.ProviderReference, after.UpdatedAt = booking.Reserved, "P-"+ref, now.Add(time.Second)
			calls := []providercall.Call{{At: now, ProviderID: 1, ProviderName: "Acme", Kind: providercall.KindReserve,
				URL: "https://acme.example/reserve", BookingReference: ref, HTTPStatus: 200,
				Outcome: providercall.OutcomeAnswered, Success: true}}
			updated[i], failed[i] = f.db.RecordReserveAnswer(ctx, calls, befores[i], &after)
		}()
		f.queued([]int{i + 1})
	}
	f.release()
	wg.Wait()
	for i, ref := range refs {
		want := i != 1
		if failed[i] != nil || updated[i] != want {
			t.Errorf("%s: RecordReserveAnswer = %v, %v; want %v", ref, updated[i], failed[i], want)
		}
		b, err := f.db.BookingByReference(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if stored := b.ProviderReference == "P-"+ref; stored != want {
			t.Errorf("%s: stored %s %q, want written %v", ref, b.State, b.ProviderReference, want)
		}
		calls, err := f.db.Calls(ctx, providercall.CallFilter{BookingReference: ref})
		if err != nil || len(calls) != 1 {
			t.Errorf("%s: %d journal entries (%v), want 1", ref, len(calls), err)
		}
	}
}
