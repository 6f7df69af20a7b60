package gwstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/gateway"
	"github.com/tportal/tportal/internal/gateway/gwstore"
	"github.com/tportal/tportal/internal/gateway/gwstore/gwstoretest"
)

var now = gwstoretest.Now

func ptr[T any](v T) *T { return &v }

var testFields = gwstoretest.ClassFields

// setup opens a fresh store with a recording queue and the course BST with class
// OSL-W40 of the given seats.
func setup(t *testing.T, dialect string, seats int) (*gateway.Reference, *gwstore.DB, *recorder) {
	t.Helper()
	db := gwstoretest.Open(t, dialect)
	rec := &recorder{}
	db.SetChangeQueue(rec)
	sys := gateway.NewReference(db)
	sys.Now = func() time.Time { return now }
	ctx := context.Background()
	if _, err := sys.AddCourse(ctx, "BST", "Basic Safety Training"); err != nil {
		t.Fatal(err)
	}
	if _, err := sys.AddClass(ctx, "BST", "OSL-W40", testFields(seats)); err != nil {
		t.Fatal(err)
	}
	return sys, db, rec
}

// recorder is a ChangeQueue that remembers what it was told, and checks that it is
// told inside a live transaction.
type recorder struct {
	mu                        sync.Mutex
	classes, held, attendance []string
	failNext                  bool
}

func (r *recorder) note(tx *sql.Tx, list *[]string, s string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failNext {
		r.failNext = false
		return fmt.Errorf("queue is down")
	}
	var one int
	if err := tx.QueryRow("SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("queue told outside a live transaction: %w", err)
	}
	*list = append(*list, s)
	return nil
}

func (r *recorder) ClassChanged(_ context.Context, tx *sql.Tx, c gateway.Class) error {
	return r.note(tx, &r.classes, fmt.Sprintf("%s free=%d cancelled=%v", c.Key(), c.FreeSeats, c.Cancelled))
}

func (r *recorder) BookingHeld(_ context.Context, tx *sql.Tx, b gateway.Booking) error {
	return r.note(tx, &r.held, b.Reference+" "+b.PortalReference)
}

func (r *recorder) AttendanceRecorded(_ context.Context, tx *sql.Tx, b gateway.Booking) error {
	return r.note(tx, &r.attendance, b.Reference+" "+string(b.Status)+" "+string(b.CompletionDate))
}

func (r *recorder) last(list []string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(list) == 0 {
		return ""
	}
	return list[len(list)-1]
}

func reserveReq(portalRef string) gateway.ReserveRequest {
	return gateway.ReserveRequest{CourseID: "BST", ClassID: "OSL-W40", PortalReference: portalRef,
		Student: gateway.Person{FirstName: "Kari", LastName: "Nordmann", Email: "kari@example.no"}, Company: "Acme AS"}
}

func TestCatalogue(t *testing.T) {
	gwstoretest.ForEach(t, func(t *testing.T, dialect string) {
		sys, _, rec := setup(t, dialect, 12)
		ctx := context.Background()
		c, err := sys.Class(ctx, "BST", "OSL-W40")
		if err != nil {
			t.Fatal(err)
		}
		want := gateway.Class{CourseID: "BST", ID: "OSL-W40", Location: "Oslo", Seats: 12, FreeSeats: 12,
			StartDate: "2027-05-10", StartTime: "09:00", EndDate: "2027-05-11", EndTime: "15:30", TimeZone: "Europe/Oslo",
			EnrollmentDeadline: "2027-05-01", CancellationDeadline: "2027-05-05",
			Address: gateway.Address{Line1: "Karl Johans gate 1", City: "Oslo", ZipCode: "0154", Country: "NO"},
			Price:   gateway.Price{Currency: "NOK", Minor: 1250000}, SendScheduleInfo: true,
			CreatedAt: now, UpdatedAt: now}
		if c != want {
			t.Errorf("stored class\n got %+v\nwant %+v", c, want)
		}
		if got := rec.last(rec.classes); got != "BST/OSL-W40 free=12 cancelled=false" {
			t.Errorf("queue told %q on add", got)
		}

		tests := []struct {
			name string
			do   func() error
			code errs.Code
		}{
			{"course twice", func() error { _, err := sys.AddCourse(ctx, "BST", "Again"); return err }, errs.Conflict},
			{"class twice", func() error { _, err := sys.AddClass(ctx, "BST", "OSL-W40", testFields(3)); return err }, errs.Conflict},
			{"class of unknown course", func() error { _, err := sys.AddClass(ctx, "NOPE", "X", testFields(3)); return err }, errs.NotFound},
			{"unknown class", func() error { _, err := sys.Class(ctx, "BST", "NOPE"); return err }, errs.NotFound},
			{"update unknown class", func() error {
				_, err := sys.UpdateClass(ctx, "BST", "NOPE", gateway.ClassFields{Seats: ptr(3)})
				return err
			}, errs.NotFound},
			{"restore a published class", func() error { _, err := sys.RestoreClass(ctx, "BST", "OSL-W40"); return err }, errs.Conflict},
			{"bad update", func() error {
				_, err := sys.UpdateClass(ctx, "BST", "OSL-W40", gateway.ClassFields{End: ptr("2027-05-09")})
				return err
			}, errs.Invalid},
		}
		for _, tc := range tests {
			if err := tc.do(); errs.CodeOf(err) != tc.code {
				t.Errorf("%s: got %v, want code %s", tc.name, err, tc.code)
			}
		}

		// The same class id in a second course is allowed.
		if _, err := sys.AddCourse(ctx, "FA", "First Aid"); err != nil {
			t.Fatal(err)
		}
		if _, err := sys.AddClass(ctx, "FA", "OSL-W40", testFields(5)); err != nil {
			t.Fatalf("same class id in another course: %v", err)
		}
		all, err := sys.Classes(ctx)
		if err != nil || len(all) != 2 || all[0].CourseID != "BST" || all[1].CourseID != "FA" {
			t.Errorf("classes: %v %+v", err, all)
		}

		c, err = sys.UpdateClass(ctx, "BST", "OSL-W40", gateway.ClassFields{Seats: ptr(20), Location: ptr("Bergen")})
		if err != nil || c.Seats != 20 || c.FreeSeats != 20 || c.Location != "Bergen" || c.StartDate != "2027-05-10" {
			t.Errorf("update: %v %+v", err, c)
		}
		if c, err = sys.CancelClass(ctx, "BST", "OSL-W40"); err != nil || !c.Cancelled {
			t.Errorf("cancel: %v %+v", err, c)
		}
		if _, err := sys.UpdateClass(ctx, "BST", "OSL-W40", gateway.ClassFields{Seats: ptr(3)}); !errs.Is(err, errs.Conflict) {
			t.Errorf("update of a cancelled class: %v, want Conflict", err)
		}
		if got := rec.last(rec.classes); got != "BST/OSL-W40 free=20 cancelled=true" {
			t.Errorf("queue told %q on cancel", got)
		}
		if c, err = sys.RestoreClass(ctx, "BST", "OSL-W40"); err != nil || c.Cancelled {
			t.Errorf("restore: %v %+v", err, c)
		}
	})
}

func TestReserveAndCancel(t *testing.T) {
	gwstoretest.ForEach(t, func(t *testing.T, dialect string) {
		sys, db, rec := setup(t, dialect, 2)
		ctx := context.Background()

		b, err := sys.Reserve(ctx, reserveReq("portal-1"))
		if err != nil {
			t.Fatal(err)
		}
		if b.Reference != "1001" || b.Status != gateway.Held || b.Student.Email != "kari@example.no" || b.Company != "Acme AS" {
			t.Errorf("first booking: %+v", b)
		}
		if got := rec.last(rec.held); got != "1001 portal-1" {
			t.Errorf("queue told %q of the hold", got)
		}
		if got := rec.last(rec.classes); got != "BST/OSL-W40 free=1 cancelled=false" {
			t.Errorf("queue told %q of the class", got)
		}
		again, err := sys.Reserve(ctx, reserveReq("portal-1"))
		if err != nil || again.Reference != b.Reference {
			t.Errorf("repeat: %v %+v", err, again)
		}
		// The same portal reference on another class is refused, and takes nothing.
		if _, err := sys.AddClass(ctx, "BST", "BGO-W41", testFields(5)); err != nil {
			t.Fatal(err)
		}
		other := reserveReq("portal-1")
		other.ClassID = "BGO-W41"
		if _, err := sys.Reserve(ctx, other); !errs.Is(err, errs.Conflict) || errs.MessageOf(err) != "trainingportalBookingReference portal-1 is already booking 1001 on class BST/OSL-W40" {
			t.Errorf("same reference, other class: %v", err)
		}
		if c, _ := sys.Class(ctx, "BST", "BGO-W41"); c.FreeSeats != 5 {
			t.Errorf("the refused reference took a seat: %d free", c.FreeSeats)
		}
		// Without externalCourseId the class is found by its id alone.
		legacy := reserveReq("portal-2")
		legacy.CourseID = ""
		b2, err := sys.Reserve(ctx, legacy)
		if err != nil || b2.Reference != "1002" {
			t.Fatalf("reserve without course: %v %+v", err, b2)
		}
		if _, err := sys.Reserve(ctx, reserveReq("portal-3")); !errs.Is(err, errs.Conflict) || errs.MessageOf(err) != "class BST/OSL-W40 is sold out" {
			t.Errorf("third seat of two: %v", err)
		}
		c, _ := sys.Class(ctx, "BST", "OSL-W40")
		if c.FreeSeats != 0 {
			t.Errorf("free seats %d, want 0", c.FreeSeats)
		}
		if _, err := sys.UpdateClass(ctx, "BST", "OSL-W40", gateway.ClassFields{Seats: ptr(1)}); !errs.Is(err, errs.Invalid) {
			t.Errorf("seats below the booked: %v", err)
		}

		// Cancel by the provider's reference, then again: idempotent, one seat back.
		for i := range 2 {
			got, err := sys.Cancel(ctx, gateway.CancelRequest{Reference: b.Reference, PortalReference: "portal-1"})
			if err != nil || got.Status != gateway.Cancelled {
				t.Errorf("cancel #%d: %v %+v", i+1, err, got)
			}
		}
		if c, _ = sys.Class(ctx, "BST", "OSL-W40"); c.FreeSeats != 1 {
			t.Errorf("free seats after cancel %d, want 1", c.FreeSeats)
		}
		if _, err := sys.Reserve(ctx, reserveReq("portal-1")); !errs.Is(err, errs.Conflict) {
			t.Errorf("reserve again with a cancelled reference: %v, want Conflict", err)
		}
		// A clean-up cancel with only the portal's reference.
		if got, err := sys.Cancel(ctx, gateway.CancelRequest{PortalReference: "portal-2"}); err != nil || got.Status != gateway.Cancelled {
			t.Errorf("clean-up cancel: %v %+v", err, got)
		}
		if got, err := sys.Cancel(ctx, gateway.CancelRequest{PortalReference: "never-booked"}); err != nil || got.Reference != "" {
			t.Errorf("clean-up cancel of a reservation never made: %v %+v", err, got)
		}
		for _, req := range []gateway.CancelRequest{{Reference: "9999"}, {Reference: "abc"}, {Reference: "1002", PortalReference: "portal-1"}} {
			if _, err := sys.Cancel(ctx, req); !errs.Is(err, errs.NotFound) {
				t.Errorf("cancel %+v: %v, want NotFound", req, err)
			}
		}
		if c, _ = sys.Class(ctx, "BST", "OSL-W40"); c.FreeSeats != 2 {
			t.Errorf("free seats at the end %d, want 2", c.FreeSeats)
		}
		list, err := db.Bookings(ctx, gateway.BookingFilter{Statuses: []gateway.Status{gateway.Cancelled}})
		if err != nil || len(list) != 2 {
			t.Errorf("cancelled bookings: %v %d", err, len(list))
		}
	})
}

func TestConfirmReleaseAttendance(t *testing.T) {
	gwstoretest.ForEach(t, func(t *testing.T, dialect string) {
		sys, _, rec := setup(t, dialect, 5)
		ctx := context.Background()
		a, _ := sys.Reserve(ctx, reserveReq("a"))
		b, _ := sys.Reserve(ctx, reserveReq("b"))

		if got, err := sys.Release(ctx, a.Reference, "the portal answered 410 Gone"); err != nil || got.Status != gateway.Released || got.Note != "the portal answered 410 Gone" {
			t.Errorf("release: %v %+v", err, got)
		}
		if _, err := sys.Confirm(ctx, a.Reference); !errs.Is(err, errs.Conflict) {
			t.Errorf("confirm a released booking: %v", err)
		}
		if _, err := sys.RecordAttendance(ctx, b.Reference, gateway.Completed, "2027-05-11"); !errs.Is(err, errs.Conflict) {
			t.Errorf("attendance on a HELD booking: %v", err)
		}
		if got, err := sys.Confirm(ctx, b.Reference); err != nil || got.Status != gateway.Confirmed {
			t.Errorf("confirm: %v %+v", err, got)
		}
		if _, err := sys.Release(ctx, b.Reference, "x"); !errs.Is(err, errs.Conflict) {
			t.Errorf("release a confirmed booking: %v", err)
		}
		// Attendance is recorded after the class.
		sys.Now = func() time.Time { return time.Date(2027, 5, 12, 8, 0, 0, 0, time.UTC) }
		tests := []struct {
			outcome gateway.Status
			date    gateway.Date
			code    errs.Code
		}{
			{gateway.Completed, "", errs.Invalid},
			{gateway.Completed, "2027-05-09", errs.Invalid},
			{gateway.Completed, "2027-05-13", errs.Invalid},
			{gateway.NoShow, "", ""},
			{gateway.Completed, "2027-05-11", ""},
		}
		for _, tc := range tests {
			got, err := sys.RecordAttendance(ctx, b.Reference, tc.outcome, tc.date)
			if errs.CodeOf(err) != tc.code && !(err == nil && tc.code == "") {
				t.Errorf("%s %s: %v, want %q", tc.outcome, tc.date, err, tc.code)
			}
			if err == nil && (got.Status != tc.outcome || got.CompletionDate != tc.date) {
				t.Errorf("%s %s: stored %+v", tc.outcome, tc.date, got)
			}
		}
		if got := rec.last(rec.attendance); got != b.Reference+" COMPLETED 2027-05-11" {
			t.Errorf("queue told %q of the attendance", got)
		}
		if _, err := sys.Cancel(ctx, gateway.CancelRequest{Reference: b.Reference}); !errs.Is(err, errs.Conflict) {
			t.Errorf("cancel after attendance: %v", err)
		}
		c, _ := sys.Class(ctx, "BST", "OSL-W40")
		if c.FreeSeats != 4 {
			t.Errorf("free seats %d, want 4 (one released, one attended)", c.FreeSeats)
		}
	})
}

func TestQueueFailureRollsBack(t *testing.T) {
	gwstoretest.ForEach(t, func(t *testing.T, dialect string) {
		sys, _, rec := setup(t, dialect, 3)
		ctx := context.Background()
		rec.failNext = true
		if _, err := sys.Reserve(ctx, reserveReq("a")); err == nil {
			t.Fatal("reserve succeeded although the queue failed")
		}
		c, _ := sys.Class(ctx, "BST", "OSL-W40")
		if c.FreeSeats != 3 {
			t.Errorf("free seats %d after a failed hold, want 3", c.FreeSeats)
		}
		if _, err := sys.Booking(ctx, "1001"); !errs.Is(err, errs.NotFound) {
			t.Errorf("booking kept after a failed hold: %v", err)
		}
	})
}

// TestConcurrentReserve sends 100 concurrent reserve calls for 10 seats, each repeated,
// and checks that exactly 10 hold a seat and each repeat got its first answer.
func TestConcurrentReserve(t *testing.T) {
	gwstoretest.ForEach(t, func(t *testing.T, dialect string) {
		sys, db, _ := setup(t, dialect, 10)
		ctx := context.Background()
		const calls = 100
		refs := make([][2]string, calls)
		var wg sync.WaitGroup
		for i := range calls {
			for round := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					b, err := sys.Reserve(ctx, reserveReq(fmt.Sprintf("p-%03d", i)))
					switch {
					case err == nil:
						refs[i][round] = b.Reference
					case errs.Is(err, errs.Conflict):
						refs[i][round] = "sold out"
					default:
						t.Errorf("reserve %d: %v", i, err)
					}
				}()
			}
		}
		wg.Wait()
		held := map[string]bool{}
		for i, r := range refs {
			if r[0] != r[1] { // no seat ever comes free, so a repeat gets the same answer
				t.Errorf("p-%03d answered %q and %q", i, r[0], r[1])
			}
			for _, ref := range r {
				if ref != "sold out" {
					held[ref] = true
				}
			}
		}
		bookings, err := db.Bookings(ctx, gateway.BookingFilter{})
		if err != nil {
			t.Fatal(err)
		}
		c, _ := sys.Class(ctx, "BST", "OSL-W40")
		if len(bookings) != 10 || len(held) != 10 || c.FreeSeats != 0 {
			t.Errorf("%d bookings, %d distinct references answered, %d free seats; want 10, 10, 0", len(bookings), len(held), c.FreeSeats)
		}
	})
}
