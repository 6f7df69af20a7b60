package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/store"
	"github.com/tportal/tportal/internal/store/storetest"
)

// bookingFixture is a class with seats seats, and helpers to book it and read it.
type bookingFixture struct {
	t     *testing.T
	db    *store.DB
	class catalog.Class
}

func newBookingFixture(t *testing.T, dialect string, seats int) bookingFixture {
	t.Helper()
	db := storetest.Open(t, dialect)
	_, co, _ := seed(t, db)
	cl := newClass(t, co, "POPULAR")
	cl.AvailableSeats = seats
	if err := db.CreateClass(context.Background(), &cl); err != nil {
		t.Fatal(err)
	}
	return bookingFixture{t: t, db: db, class: cl}
}

// book makes a PENDING booking ref of the class, with idempotency key key ("" for none).
func (f bookingFixture) book(ctx context.Context, ref, key string, check func(catalog.Class) error) (booking.Booking, error) {
	now := time.Now()
	b := booking.Booking{Reference: ref, ClassID: f.class.ID, Student: booking.Person{FirstName: "Per", LastName: "Berg"},
		State: booking.Pending, IdempotencyKey: key, CreatedAt: now, UpdatedAt: now}
	err := f.db.CreateBooking(ctx, &b, check)
	return b, err
}

func (f bookingFixture) seats() int {
	f.t.Helper()
	c, err := f.db.ClassByID(context.Background(), f.class.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return c.AvailableSeats
}

func (f bookingFixture) stored() int {
	f.t.Helper()
	bs, err := f.db.Bookings(context.Background(), booking.Filter{ClassID: f.class.ID})
	if err != nil {
		f.t.Fatal(err)
	}
	return len(bs)
}

func pass(catalog.Class) error { return nil }

// TestCreateBookingCheckOutsideLock: on PostgreSQL the class's row is not locked while
// check runs, so a booking of the same class completes while another's check is
// still running (with the lock held until the COMMIT, it waited for it).
func TestCreateBookingCheckOutsideLock(t *testing.T) {
	if os.Getenv(storetest.EnvPostgres) == "" {
		t.Skip("PostgreSQL only; set TPORTAL_TEST_POSTGRES")
	}
	ctx := context.Background()
	f := newBookingFixture(t, "postgres", 10)
	inCheck, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := f.book(ctx, "SLOW", "", func(catalog.Class) error {
			close(inCheck)
			<-release
			return nil
		})
		done <- err
	}()
	<-inCheck
	quick, cancel := context.WithTimeout(ctx, 5*time.Second)
	_, err := f.book(quick, "QUICK", "", pass)
	cancel()
	close(release)
	if err != nil {
		t.Errorf("a booking while another's check ran: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if f.seats() != 8 || f.stored() != 2 {
		t.Errorf("two bookings left %d seats and %d bookings, want 8 and 2", f.seats(), f.stored())
	}
}

// TestCreateBookingRefusedUndone: a check that fails after the seat was taken leaves
// neither seat nor booking, even when the caller's context ended meanwhile (the
// client went away), and a reused idempotency key takes no seat.
func TestCreateBookingRefusedUndone(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		f := newBookingFixture(t, dialect, 3)
		ctx, cancel := context.WithCancel(context.Background())
		refuse := errs.E(errs.Conflict, "class cancelled meanwhile")
		b, err := f.book(ctx, "GONE", "", func(catalog.Class) error {
			cancel()
			return refuse
		})
		if err != refuse || b.ID != 0 {
			t.Errorf("refused: %v, id %d; want the check's error and no id", err, b.ID)
		}
		if f.seats() != 3 || f.stored() != 0 {
			t.Errorf("a refused booking left %d seats and %d bookings, want 3 and 0", f.seats(), f.stored())
		}

		ctx = context.Background()
		if _, err := f.book(ctx, "K-1", "key", pass); err != nil {
			t.Fatal(err)
		}
		b, err = f.book(ctx, "K-2", "key", pass)
		if !errs.Is(err, errs.Conflict) || b.ID != 0 {
			t.Errorf("same key again: %v, id %d; want Conflict and no id", err, b.ID)
		}
		if f.seats() != 2 || f.stored() != 1 {
			t.Errorf("a reused key left %d seats and %d bookings, want 2 and 1", f.seats(), f.stored())
		}
	})
}

// TestCreateBookingConcurrent: many bookings of one class at once, a third of them
// refused by their check after the seat was taken, never take more seats than there
// are, every seat taken belongs to a stored booking, and every refused one's seat
// is given back.
func TestCreateBookingConcurrent(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		const seats, tries = 20, 60
		f := newBookingFixture(t, dialect, seats)
		var mu sync.Mutex
		made := 0
		var wg sync.WaitGroup
		for i := range tries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				check := pass
				if i%3 == 0 {
					check = func(catalog.Class) error { return errs.E(errs.Conflict, "refused") }
				}
				_, err := f.book(context.Background(), fmt.Sprintf("C-%d", i), "", check)
				switch {
				case err == nil:
					mu.Lock()
					made++
					mu.Unlock()
				case !errs.Is(err, errs.Conflict):
					t.Errorf("booking %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		// On PostgreSQL a refused booking holds its seat until it is undone, and a
		// booking meanwhile may find the class full: fewer than seats may be made.
		if left, stored := f.seats(), f.stored(); made == 0 || made > seats || stored != made || left != seats-made {
			t.Errorf("%d made, %d seats left, %d stored; want made in 1..%d, stored = made, left = %d - made",
				made, left, stored, seats, seats)
		}
	})
}

// lockedClass opens a fixture of a class with seats seats on PostgreSQL and locks its
// row from another connection, so that bookings queue; unlock releases it.
func lockedClass(t *testing.T, seats int) (f bookingFixture, unlock func()) {
	t.Helper()
	db, url := openPostgres(t)
	_, co, _ := seed(t, db)
	cl := newClass(t, co, "POPULAR")
	cl.AvailableSeats = seats
	if err := db.CreateClass(context.Background(), &cl); err != nil {
		t.Fatal(err)
	}
	_, unlock = lockClassRow(t, url, cl.ID)
	return bookingFixture{t: t, db: db, class: cl}, unlock
}

// openPostgres opens a store on a fresh PostgreSQL database, and skips the test
// without TPORTAL_TEST_POSTGRES. It returns the database's URL too.
func openPostgres(t *testing.T) (*store.DB, string) {
	t.Helper()
	if os.Getenv(storetest.EnvPostgres) == "" {
		t.Skip("PostgreSQL only; set TPORTAL_TEST_POSTGRES")
	}
	url := storetest.URL(t, "postgres")
	db, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, url
}

// lockClassRow holds class id's row lock on a connection of its own (raw) until
// unlock, which the test's end calls too.
func lockClassRow(t *testing.T, url string, id int64) (raw *sql.DB, unlock func()) {
	t.Helper()
	raw, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	tx, err := raw.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`SELECT 1 FROM classes WHERE id = $1 FOR UPDATE`, id); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	unlock = func() { once.Do(func() { tx.Rollback() }) }
	t.Cleanup(unlock)
	return raw, unlock
}

// queued waits until f's class has a statement running and want bookings wait behind
// it, in one batch.
func (f bookingFixture) queued(want int) {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		running, sizes := f.db.SeatBatchesWaiting(f.class.ID)
		if running && (want == 0 && len(sizes) == 0 || len(sizes) == 1 && sizes[0] == want) {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("waiting batches %v (running %v), want one of %d", sizes, running, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// bookAll starts n bookings of f's class, the first alone and the others once it
// waits for the lock, and returns their outcomes once unlock has run.
func (f bookingFixture) bookAll(n int, key func(i int) string, unlock func()) (seen []int, errors []error) {
	seen, errors = make([]int, n), make([]error, n)
	var wg sync.WaitGroup
	start := func(i int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errors[i] = f.book(context.Background(), fmt.Sprintf("S-%d", i), key(i), func(c catalog.Class) error {
				seen[i] = c.AvailableSeats
				return nil
			})
		}()
	}
	start(0)
	f.queued(0) // the first one's statement waits for the lock
	for i := 1; i < n; i++ {
		start(i)
	}
	f.queued(n - 1)
	unlock()
	wg.Wait()
	return seen, errors
}

// TestCreateBookingShared: bookings of a class arriving while its seat statement runs
// share the next one, and each one's check sees the class as it was before its own
// seat.
func TestCreateBookingShared(t *testing.T) {
	f, unlock := lockedClass(t, 10)
	seen, errors := f.bookAll(6, func(int) string { return "" }, unlock)
	for i, err := range errors {
		if err != nil {
			t.Errorf("booking %d: %v", i, err)
		}
	}
	slices.Sort(seen)
	if want := []int{5, 6, 7, 8, 9, 10}; !slices.Equal(seen, want) {
		t.Errorf("checks saw %v seats, want %v", seen, want)
	}
	if f.seats() != 4 || f.stored() != 6 {
		t.Errorf("6 bookings left %d seats and %d bookings, want 4 and 6", f.seats(), f.stored())
	}
	if running, sizes := f.db.SeatBatchesWaiting(f.class.ID); running || len(sizes) > 0 {
		t.Errorf("after the bookings: running %v, waiting %v", running, sizes)
	}
}

// TestCreateBookingSharedFallsBack: a shared statement that cannot take all its seats,
// or whose bookings include a taken idempotency key, has each booking run alone.
func TestCreateBookingSharedFallsBack(t *testing.T) {
	t.Run("too few seats", func(t *testing.T) {
		f, unlock := lockedClass(t, 3)
		_, errors := f.bookAll(5, func(int) string { return "" }, unlock)
		made := 0
		for i, err := range errors {
			switch {
			case err == nil:
				made++
			case !errs.Is(err, errs.Conflict) || errs.MessageOf(err) != `class "POPULAR" has no seats left`:
				t.Errorf("booking %d: %v", i, err)
			}
		}
		if made != 3 || f.seats() != 0 || f.stored() != 3 {
			t.Errorf("%d made, %d seats left, %d stored; want 3, 0, 3", made, f.seats(), f.stored())
		}
	})
	t.Run("same key", func(t *testing.T) {
		f, unlock := lockedClass(t, 10)
		_, errors := f.bookAll(4, func(i int) string { return fmt.Sprintf("key-%d", min(i, 2)) }, unlock)
		failed := 0
		for i, err := range errors {
			if err != nil {
				failed++
				if i < 2 || !errs.Is(err, errs.Conflict) {
					t.Errorf("booking %d: %v", i, err)
				}
			}
		}
		if failed != 1 || f.seats() != 7 || f.stored() != 3 {
			t.Errorf("%d failed, %d seats left, %d stored; want 1, 7, 3", failed, f.seats(), f.stored())
		}
	})
}

// TestCreateBookingSharedStoresEveryColumn: a shared statement stores each of its
// bookings with every column as given, NULLs (no idempotency key, no company) and
// values side by side.
func TestCreateBookingSharedStoresEveryColumn(t *testing.T) {
	f, unlock := lockedClass(t, 10)
	ctx := context.Background()
	var company int64
	if err := f.db.SQL().QueryRowContext(ctx, `INSERT INTO companies (name, name_key, created_at) VALUES ('Acme AS', 'acme as', 0) RETURNING id`).Scan(&company); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	want := make([]booking.Booking, 4)
	for i := range want {
		n := strconv.Itoa(i)
		want[i] = booking.Booking{Reference: "E-" + n, ClassID: f.class.ID, State: booking.Pending,
			Student:          booking.Person{FirstName: "S" + n, LastName: "L" + n, Email: "s" + n + "@x.example", Phone: "+47 " + n},
			StudentBirthDate: "1990-01-0" + strconv.Itoa(i+1),
			Enroller:         booking.Person{FirstName: "E" + n, LastName: "M" + n, Email: "e" + n + "@x.example", Phone: "+46 " + n},
			Company:          "Co " + n, Comment: "comment " + n, PurchaseOrderNumber: "PO-" + n, ProviderReference: "", Message: "m" + n,
			CreatedAt: now.Add(time.Duration(i) * time.Millisecond), UpdatedAt: now.Add(time.Duration(i+10) * time.Millisecond)}
		if i%2 == 1 {
			want[i].IdempotencyKey, want[i].CompanyID = "key-"+n, company
		}
	}
	errors := make([]error, len(want))
	var wg sync.WaitGroup
	start := func(i int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errors[i] = f.db.CreateBooking(ctx, &want[i], pass)
		}()
	}
	start(0)
	f.queued(0)
	for i := 1; i < len(want); i++ {
		start(i)
	}
	f.queued(len(want) - 1)
	unlock()
	wg.Wait()
	for i, w := range want {
		if errors[i] != nil {
			t.Fatalf("booking %d: %v", i, errors[i])
		}
		got, err := f.db.BookingByReference(ctx, w.Reference)
		if err != nil {
			t.Fatal(err)
		}
		w.CreatedAt, w.UpdatedAt = w.CreatedAt.UTC(), w.UpdatedAt.UTC()
		got.CreatedAt, got.UpdatedAt = got.CreatedAt.UTC(), got.UpdatedAt.UTC()
		if !reflect.DeepEqual(got, w) {
			t.Errorf("booking %d stored as\n%+v\nwant\n%+v", i, got, w)
		}
	}
}
