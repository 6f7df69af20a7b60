package gwjobs_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/gateway"
	"github.com/tportal/tportal/internal/gateway/certificate/certtest"
	"github.com/tportal/tportal/internal/gateway/gwjobs"
	"github.com/tportal/tportal/internal/gateway/gwstore"
	"github.com/tportal/tportal/internal/gateway/gwstore/gwstoretest"
	"github.com/tportal/tportal/internal/gateway/reconcile/fakeportal"
	"github.com/tportal/tportal/tpclient"
)

var _ gwstore.ChangeQueue = (*gwjobs.Queue)(nil)

// fast are options that keep the tests short: waits of tens of milliseconds.
func fast() gwjobs.Options {
	return gwjobs.Options{
		ConfirmWindow: time.Minute, ConfirmBase: 20 * time.Millisecond, ConfirmMax: 100 * time.Millisecond,
		RetryBase: 20 * time.Millisecond, RetryMax: 100 * time.Millisecond,
		PushDelay: 300 * time.Millisecond, PollEvery: 50 * time.Millisecond, ProviderName: "Sjø & Sikkerhet AS",
	}
}

// world is a gateway database with a reference system, a fake portal and a runner.
type world struct {
	db     *gwstore.DB
	system *gateway.Reference
	portal *fakeportal.Portal
	runner *gwjobs.Runner
	clock  atomic.Pointer[time.Time]
}

func newWorld(t *testing.T, dialect string, opts gwjobs.Options) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{db: gwstoretest.Open(t, dialect), portal: fakeportal.New(t)}
	w.system = gateway.NewReference(w.db)
	start := time.Date(2027, 4, 1, 12, 0, 0, 0, time.UTC)
	w.clock.Store(&start)
	w.system.Now = func() time.Time { return *w.clock.Load() }
	r, err := gwjobs.New(ctx, w.db.SQL(), w.db.Dialect(), gwjobs.Deps{Store: w.db, System: w.system, Portal: w.portal.Client(t)}, opts)
	if err != nil {
		t.Fatal(err)
	}
	w.runner = r
	w.db.SetChangeQueue(&r.Queue)
	if _, err := w.system.AddCourse(ctx, "BST", "Grunnleggende sikkerhetskurs"); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) start(t *testing.T) {
	t.Helper()
	if err := w.runner.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		w.runner.Stop(ctx) //nolint:errcheck // best effort at the end of a test
	})
}

func (w *world) setClock(day string) {
	t, _ := time.Parse(time.DateOnly, day)
	t = t.Add(12 * time.Hour)
	w.clock.Store(&t)
}

func ptr[T any](v T) *T { return &v }

func classFields(seats int) gateway.ClassFields {
	return gateway.ClassFields{
		Location: ptr("Oslo"), Seats: ptr(seats), Start: ptr("2027-05-10T09:00"), End: ptr("2027-05-11T15:30"),
		EnrollmentDeadline: ptr("2027-05-01"), CancellationDeadline: ptr("2027-05-05"),
		Amount: ptr("12500.00"), Currency: ptr("NOK"), AddressLine1: ptr("Karl Johans gate 1"),
		City: ptr("Oslo"), ZipCode: ptr("0154"), Country: ptr("NO"),
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (w *world) portalField(course, class, field string) string {
	c, ok := w.portal.Class(course, class)
	if !ok {
		return "<missing>"
	}
	return c[field]
}

func TestCatalogueChangesReachThePortalCoalesced(t *testing.T) {
	gwstoretest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		w := newWorld(t, dialect, fast())
		// Eleven changes queue up before the runner works them (as while serve is down,
		// or while one push is slow): a new class, then ten seat counts.
		if _, err := w.system.AddClass(ctx, "BST", "OSL-W40", classFields(12)); err != nil {
			t.Fatal(err)
		}
		for seats := 13; seats <= 22; seats++ {
			if _, err := w.system.UpdateClass(ctx, "BST", "OSL-W40", gateway.ClassFields{Seats: ptr(seats)}); err != nil {
				t.Fatal(err)
			}
		}
		w.start(t)
		eventually(t, 30*time.Second, "the class reaches the portal with its last seat count", func() bool {
			return w.portalField("BST", "OSL-W40", "availableSeats") == "22"
		})
		time.Sleep(500 * time.Millisecond) // any further push would come within PushDelay and a poll
		// Only the newest change's job calls: updateClass (404: unknown), then addClass.
		if add, upd := w.portal.Calls("addClass"), w.portal.Calls("updateClass"); add != 1 || upd != 1 {
			t.Errorf("eleven changes made %d addClass and %d updateClass calls, want 1 and 1", add, upd)
		}
		for field, want := range map[string]string{"address.city": "Oslo", "price.amount": "12500.00", "startTime": "09:00", "timeZone": "Europe/Oslo"} {
			if got := w.portalField("BST", "OSL-W40", field); got != want {
				t.Errorf("portal %s = %q, want %q", field, got, want)
			}
		}

		// Changes while the runner works reach the portal too.
		if _, err := w.system.CancelClass(ctx, "BST", "OSL-W40"); err != nil {
			t.Fatal(err)
		}
		eventually(t, 30*time.Second, "the cancellation reaches the portal", func() bool {
			return w.portalField("BST", "OSL-W40", "cancelled") == "true"
		})
		if _, err := w.system.RestoreClass(ctx, "BST", "OSL-W40"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.system.UpdateClass(ctx, "BST", "OSL-W40", gateway.ClassFields{Location: ptr("Bergen")}); err != nil {
			t.Fatal(err)
		}
		eventually(t, 30*time.Second, "the restore and edit reach the portal", func() bool {
			return w.portalField("BST", "OSL-W40", "cancelled") == "false" && w.portalField("BST", "OSL-W40", "location") == "Bergen"
		})
		if w.portal.Calls("restoreClass") == 0 {
			t.Error("the class was never restored at the portal")
		}
	})
}

func TestPushIsRetriedAndSurvivesAStoppedRunner(t *testing.T) {
	gwstoretest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		w := newWorld(t, dialect, fast())
		// The runner is not working yet, as when only the command line runs.
		if _, err := w.system.AddClass(ctx, "BST", "OSL-W41", classFields(8)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(400 * time.Millisecond)
		if _, ok := w.portal.Class("BST", "OSL-W41"); ok {
			t.Fatal("class pushed without a running runner")
		}
		w.portal.FailNext("addClass", 3)
		w.start(t)
		eventually(t, 30*time.Second, "the queued class reaches the portal after the failures", func() bool {
			return w.portalField("BST", "OSL-W41", "availableSeats") == "8"
		})
		if n := w.portal.Calls("addClass"); n != 4 {
			t.Errorf("addClass calls = %d, want 3 failures and 1 success", n)
		}
	})
}

func TestInsertOnlyQueueKeepsChangesForTheRunner(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, "sqlite", fast())
	q, err := gwjobs.NewQueue(ctx, w.db.SQL(), w.db.Dialect(), fast())
	if err != nil {
		t.Fatal(err)
	}
	w.db.SetChangeQueue(q)
	if _, err := w.system.AddClass(ctx, "BST", "CLI-1", classFields(5)); err != nil {
		t.Fatal(err)
	}
	w.start(t)
	eventually(t, 30*time.Second, "a class added through the insert-only queue reaches the portal", func() bool {
		return w.portalField("BST", "CLI-1", "availableSeats") == "5"
	})
}

func (w *world) reserve(t *testing.T, portalRef, first, last string) gateway.Booking {
	t.Helper()
	b, err := w.system.Reserve(context.Background(), gateway.ReserveRequest{
		CourseID: "BST", ClassID: "OSL-W40", PortalReference: portalRef,
		Student: gateway.Person{FirstName: first, LastName: last, Email: "s@example.com"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (w *world) status(t *testing.T, ref string) gateway.Status {
	t.Helper()
	b, err := w.system.Booking(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return b.Status
}

func TestConfirmation(t *testing.T) {
	tests := []struct {
		name   string
		window time.Duration
		answer func(calls *atomic.Int32) (int, tpclient.BookingInformation)
		want   gateway.Status
	}{
		{"confirmed after two 404s", time.Minute, func(calls *atomic.Int32) (int, tpclient.BookingInformation) {
			if calls.Add(1) <= 2 {
				return http.StatusNotFound, tpclient.BookingInformation{}
			}
			return http.StatusOK, tpclient.BookingInformation{FirstName: "Øyvind", LastName: "Ås", EnrollmentStatus: "NEW",
				Phone: "4791234567", Company: "Acme Industri AS", Enroller: tpclient.Person{FirstName: "Ola", Email: "ola@example.no"}}
		}, gateway.Confirmed},
		{"released on 410", time.Minute, func(calls *atomic.Int32) (int, tpclient.BookingInformation) {
			calls.Add(1)
			return http.StatusGone, tpclient.BookingInformation{}
		}, gateway.Released},
		{"released after the window", 700 * time.Millisecond, func(calls *atomic.Int32) (int, tpclient.BookingInformation) {
			calls.Add(1)
			return http.StatusNotFound, tpclient.BookingInformation{}
		}, gateway.Released},
		{"released after the window while the portal fails", 700 * time.Millisecond, func(calls *atomic.Int32) (int, tpclient.BookingInformation) {
			calls.Add(1)
			return http.StatusInternalServerError, tpclient.BookingInformation{}
		}, gateway.Released},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gwstoretest.ForEach(t, func(t *testing.T, dialect string) {
				ctx := context.Background()
				opts := fast()
				opts.ConfirmWindow = tt.window
				w := newWorld(t, dialect, opts)
				if _, err := w.system.AddClass(ctx, "BST", "OSL-W40", classFields(3)); err != nil {
					t.Fatal(err)
				}
				var calls atomic.Int32
				w.portal.Booking("TP-1", func() (int, tpclient.BookingInformation) { return tt.answer(&calls) })
				w.start(t)
				b := w.reserve(t, "TP-1", "Øyvind", "Ås")
				eventually(t, 30*time.Second, "the booking is "+string(tt.want), func() bool { return w.status(t, b.Reference) == tt.want })
				if calls.Load() == 0 {
					t.Error("the portal was never asked")
				}
				if tt.want == gateway.Confirmed { // what the reserve call lacked is kept from the portal's answer
					got, err := w.system.Booking(ctx, b.Reference)
					if err != nil {
						t.Fatal(err)
					}
					if got.Student.Phone != "4791234567" || got.Company != "Acme Industri AS" || got.Enroller.Email != "ola@example.no" ||
						got.Student.Email != "s@example.com" {
						t.Errorf("confirmed booking details = %+v, %+v, %q", got.Student, got.Enroller, got.Company)
					}
				}
				c, err := w.system.Class(ctx, "BST", "OSL-W40")
				if err != nil {
					t.Fatal(err)
				}
				wantFree := 2
				if tt.want == gateway.Released {
					wantFree = 3
				}
				if c.FreeSeats != wantFree {
					t.Errorf("free seats = %d, want %d", c.FreeSeats, wantFree)
				}
				// The seat that moved is pushed to the portal too.
				eventually(t, 30*time.Second, "the free seats reach the portal", func() bool {
					return w.portalField("BST", "OSL-W40", "availableSeats") == string(rune('0'+wantFree))
				})
			})
		})
	}
}

func TestOutcomesAreReportedWithACertificate(t *testing.T) {
	gwstoretest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		w := newWorld(t, dialect, fast())
		if _, err := w.system.AddClass(ctx, "BST", "OSL-W40", classFields(3)); err != nil {
			t.Fatal(err)
		}
		ok := func() (int, tpclient.BookingInformation) {
			return http.StatusOK, tpclient.BookingInformation{EnrollmentStatus: "NEW"}
		}
		w.portal.Booking("TP-1", ok)
		w.portal.Booking("TP-2", ok)
		w.start(t)
		done := w.reserve(t, "TP-1", "Øyvind", "Ås")
		absent := w.reserve(t, "TP-2", "Kari", "Nordmann")
		for _, b := range []gateway.Booking{done, absent} {
			eventually(t, 30*time.Second, "confirmed", func() bool { return w.status(t, b.Reference) == gateway.Confirmed })
		}
		w.setClock("2027-05-12")
		w.portal.FailNext("uploadDocumentation", 1)
		if _, err := w.system.RecordAttendance(ctx, done.Reference, gateway.Completed, "2027-05-11"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.system.RecordAttendance(ctx, absent.Reference, gateway.NoShow, ""); err != nil {
			t.Fatal(err)
		}
		eventually(t, 30*time.Second, "the certificate is uploaded", func() bool { return len(w.portal.Uploads("TP-1")) == 1 })
		eventually(t, 30*time.Second, "the no-show is reported", func() bool { return len(w.portal.Statuses("TP-2")) == 1 })
		if got := w.portal.Statuses("TP-1"); len(got) < 1 || got[len(got)-1] != "COMPLETED 2027-05-11" {
			t.Errorf("TP-1 statuses = %q, want COMPLETED 2027-05-11", got)
		}
		if got := w.portal.Statuses("TP-2"); got[0] != "NO_SHOW" {
			t.Errorf("TP-2 statuses = %q, want NO_SHOW", got)
		}
		if n := len(w.portal.Uploads("TP-2")); n != 0 {
			t.Errorf("a NO_SHOW uploaded %d documents", n)
		}
		text := certtest.Text(t, w.portal.Uploads("TP-1")[0])
		for _, want := range []string{"Øyvind Ås", "Grunnleggende sikkerhetskurs", "Sjø & Sikkerhet AS", "11 May 2027"} {
			if !certtest.Contains(text, want) {
				t.Errorf("certificate lacks %q; text %q", want, text)
			}
		}
	})
}

func TestBackoffHasFullJitterUnderItsCeiling(t *testing.T) {
	tests := []struct {
		n       int
		ceiling time.Duration
	}{{1, 100 * time.Millisecond}, {2, 200 * time.Millisecond}, {4, 800 * time.Millisecond}, {30, time.Second}}
	for _, tt := range tests {
		var lowest, highest time.Duration = time.Hour, 0
		for range 2000 {
			d := gwjobs.Backoff(tt.n, 100*time.Millisecond, time.Second)
			if d < 0 || d > tt.ceiling {
				t.Fatalf("Backoff(%d) = %s, outside [0, %s]", tt.n, d, tt.ceiling)
			}
			lowest, highest = min(lowest, d), max(highest, d)
		}
		if lowest > tt.ceiling/10 || highest < tt.ceiling*9/10 {
			t.Errorf("Backoff(%d) spans only %s…%s of [0, %s]: not full jitter", tt.n, lowest, highest, tt.ceiling)
		}
	}
}

// TestSharesAPostgresDatabaseWithThePortal: with the portal's River tables in the
// same PostgreSQL database (search_path), the gateway's jobs stay in their own schema.
func TestSharesAPostgresDatabaseWithThePortal(t *testing.T) {
	gwstoretest.ForEach(t, func(t *testing.T, dialect string) {
		if dialect != "postgres" {
			t.Skip("SQLite: the gateway has a database file of its own")
		}
		ctx := context.Background()
		w := newWorld(t, dialect, fast())
		// The portal's River, as internal/jobs sets it up, in the default schema.
		if err := migrateDefaultRiver(ctx, w.db); err != nil {
			t.Fatal(err)
		}
		if _, err := w.system.AddClass(ctx, "BST", "OSL-W40", classFields(3)); err != nil {
			t.Fatal(err)
		}
		count := func(table string) int {
			var n int
			if err := w.db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count(gwjobs.PostgresSchema + ".river_job"); n != 1 {
			t.Errorf("the gateway's schema has %d jobs, want 1", n)
		}
		if n := count("public.river_job"); n != 0 {
			t.Errorf("the portal's River table got %d of the gateway's jobs", n)
		}
		w.start(t)
		eventually(t, 30*time.Second, "the class reaches the portal", func() bool {
			return w.portalField("BST", "OSL-W40", "availableSeats") == "3"
		})
	})
}
