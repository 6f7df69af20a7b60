package jobs_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/jobs"
	"github.com/tportal/tportal/internal/providercall"
	"github.com/tportal/tportal/internal/store"
	"github.com/tportal/tportal/internal/store/storetest"
)

func ptr(s string) *string { return &s }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// abandonedBooking makes a booking whose reserve call fails, so it ends ABANDONED
// with its cleanup pending, and returns its reference.
func abandonedBooking(t *testing.T, db *store.DB, cancelURL string) string {
	t.Helper()
	ctx := context.Background()
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusBadGateway)
	}))
	t.Cleanup(broken.Close)
	cat := &catalog.Service{Store: db, DefaultZone: "Europe/Oslo"}
	p, err := cat.AddProvider(ctx, catalog.Provider{Name: "Acme", Username: "acme", PasswordHash: "x",
		ReserveURL: broken.URL + "/reserve", CancelURL: cancelURL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cat.AddCourse(ctx, "acme", catalog.Course{Name: "BST", ExternalID: "BST"}); err != nil {
		t.Fatal(err)
	}
	c, err := cat.AddClass(ctx, p, "BST", catalog.ClassFields{
		ExternalID: ptr("W1"), Location: ptr("Oslo"), AvailableSeats: ptr("5"),
		EnrollmentDeadline: ptr("2030-01-01"), CancellationDeadline: ptr("2030-01-01"),
		StartDate: ptr("2030-01-02"), EndDate: ptr("2030-01-02"), AddressLine1: ptr("Gate 1"),
		City: ptr("Oslo"), ZipCode: ptr("0150"), Country: ptr("NO"), Currency: ptr("NOK"), Amount: ptr("10"),
	})
	if err != nil {
		t.Fatal(err)
	}
	svc := bookingService(db)
	b, err := svc.Book(ctx, booking.Request{ClassID: c.ID, Student: booking.Person{FirstName: "A", LastName: "B"},
		Enroller: booking.Person{Email: "e@example.com"}})
	if b.State != booking.Abandoned || !b.CleanupPending {
		t.Fatalf("Book = %+v, %v; want ABANDONED with cleanup pending", b, err)
	}
	return b.Reference
}

func bookingService(db *store.DB) *booking.Service {
	return &booking.Service{Store: db, Logger: quiet, Caller: providercall.BookingCaller{Client: providercall.New(providercall.Options{
		AllowPrivateURLs: true, Timeout: time.Second, Journal: db})}}
}

// The cleanup of an abandoned reservation is retried until the provider answers, and
// the work survives a restart of the process that scheduled it.
func TestCleanupRetriesAndSurvivesRestart(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		dbURL := storetest.URL(t, dialect)
		db, err := store.Open(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		var calls, failFirst atomic.Int32
		failFirst.Store(2)
		gotRef := make(chan string, 10)
		cancel := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			if failFirst.Add(-1) >= 0 {
				http.Error(w, `{"errorMessage":"try later"}`, http.StatusServiceUnavailable)
				return
			}
			gotRef <- r.URL.Query().Get("trainingportalBookingReference")
			w.Write([]byte(`{"cancelled":"true"}`))
		}))
		defer cancel.Close()
		ref := abandonedBooking(t, db, cancel.URL+"/cancel")
		opts := jobs.Options{RetryBase: 50 * time.Millisecond, RetryMax: 100 * time.Millisecond, ScanEvery: time.Hour,
			PollEvery: 100 * time.Millisecond, Logger: quiet}

		// The first process schedules the cleanup and stops before it can succeed.
		svc := bookingService(db)
		first, err := jobs.New(ctx, db.SQL(), db.Dialect(), svc, &catalog.Service{Store: db}, opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := first.ScheduleCleanup(ctx, ref); err != nil {
			t.Fatal(err)
		}
		if err := first.ScheduleCleanup(ctx, ref); err != nil { // scheduling twice makes one job
			t.Fatal(err)
		}
		db.Close()

		// A new process on the same database picks the job up and retries it.
		db2, err := store.Open(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer db2.Close()
		second, err := jobs.New(ctx, db2.SQL(), db2.Dialect(), bookingService(db2), &catalog.Service{Store: db2}, opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := second.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer second.Stop(ctx)
		select {
		case got := <-gotRef:
			if got != ref {
				t.Errorf("cancel call carried trainingportalBookingReference %q, want %q", got, ref)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("no successful cleanup within 20s (%d calls)", calls.Load())
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			b, err := db2.BookingByReference(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			if !b.CleanupPending {
				if b.State != booking.Abandoned {
					t.Errorf("state %s after cleanup, want ABANDONED", b.State)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("cleanup still pending after the provider answered")
			}
			time.Sleep(50 * time.Millisecond)
		}
		if n := calls.Load(); n != 3 {
			t.Errorf("cancel URL called %d times, want 3 (two failures, one success)", n)
		}
	})
}

// The periodic scan finds abandoned bookings nobody scheduled a cleanup for.
func TestScanSchedulesForgottenCleanups(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, "sqlite")
	done := make(chan struct{}, 1)
	cancel := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"cancelled":false,"errorMessage":"no such booking"}`))
		select {
		case done <- struct{}{}:
		default:
		}
	}))
	defer cancel.Close()
	ref := abandonedBooking(t, db, cancel.URL+"/cancel")
	r, err := jobs.New(ctx, db.SQL(), db.Dialect(), bookingService(db), &catalog.Service{Store: db},
		jobs.Options{ScanEvery: time.Hour, PollEvery: 100 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx); err != nil { // the scan runs on start
		t.Fatal(err)
	}
	defer r.Stop(ctx)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the scan did not schedule the cleanup")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := db.BookingByReference(ctx, ref)
		if !b.CleanupPending {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("an answered cleanup is still pending")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestBackoff(t *testing.T) {
	base, maxDelay := time.Second, 10*time.Second
	for _, tt := range []struct {
		attempt int
		want    time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {4, 8 * time.Second}, {5, 10 * time.Second}, {30, 10 * time.Second}} {
		for range 20 {
			got := jobs.Backoff(tt.attempt, base, maxDelay)
			if got < tt.want*3/4 || got > tt.want*5/4 {
				t.Errorf("Backoff(%d) = %v, want %v ± 25%%", tt.attempt, got, tt.want)
			}
		}
	}
}

// A booking left PENDING by a process that stopped mid-call is abandoned by the scan,
// its seat given back, and the provider told to cancel it.
func TestScanAbandonsStalePendingBookings(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := storetest.Open(t, dialect)
		cancelled := make(chan string, 1)
		provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case cancelled <- r.URL.Query().Get("trainingportalBookingReference"):
			default:
			}
			w.Write([]byte(`{"cancelled":true}`))
		}))
		defer provider.Close()
		old := abandonedBooking(t, db, provider.URL+"/cancel") // also creates provider, course, class W1
		first, _ := db.BookingByReference(ctx, old)
		if _, err := db.ModifyBooking(ctx, old, func(b *booking.Booking) error { b.CleanupPending = false; return nil }); err != nil {
			t.Fatal(err)
		}
		class, _ := db.ClassByID(ctx, first.ClassID)
		stale := booking.Booking{Reference: booking.NewReference(), ClassID: class.ID, State: booking.Pending,
			CreatedAt: time.Now().Add(-time.Hour), UpdatedAt: time.Now().Add(-time.Hour)}
		if err := db.CreateBooking(ctx, &stale, func(catalog.Class) error { return nil }); err != nil {
			t.Fatal(err)
		}
		fresh := booking.Booking{Reference: booking.NewReference(), ClassID: class.ID, State: booking.Pending,
			CreatedAt: time.Now(), UpdatedAt: time.Now()}
		if err := db.CreateBooking(ctx, &fresh, func(catalog.Class) error { return nil }); err != nil {
			t.Fatal(err)
		}
		r, err := jobs.New(ctx, db.SQL(), db.Dialect(), bookingService(db), &catalog.Service{Store: db},
			jobs.Options{ScanEvery: time.Hour, PollEvery: 100 * time.Millisecond, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer r.Stop(ctx)
		select {
		case got := <-cancelled:
			if got != stale.Reference {
				t.Errorf("cancel sent for %q, want the stale booking %q", got, stale.Reference)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the stale booking was not cleaned up")
		}
		b, _ := db.BookingByReference(ctx, stale.Reference)
		if b.State != booking.Abandoned {
			t.Errorf("stale booking is %s, want ABANDONED", b.State)
		}
		if f, _ := db.BookingByReference(ctx, fresh.Reference); f.State != booking.Pending {
			t.Errorf("a fresh PENDING booking became %s", f.State)
		}
		after, _ := db.ClassByID(ctx, class.ID)
		if after.AvailableSeats != class.AvailableSeats-1 { // the fresh one still holds its seat
			t.Errorf("seats = %d, want %d", after.AvailableSeats, class.AvailableSeats-1)
		}
	})
}
