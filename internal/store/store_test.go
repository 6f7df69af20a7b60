package store_test

import (
	"context"
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

func ptr(s string) *string { return &s }

// seed stores a provider, a course and one class.
func seed(t testing.TB, db *store.DB) (catalog.Provider, catalog.Course, catalog.Class) {
	t.Helper()
	ctx := context.Background()
	p := catalog.Provider{Name: "Acme", Username: "acme", PasswordHash: "x", CreatedAt: time.Now()}
	if err := db.CreateProvider(ctx, &p); err != nil {
		t.Fatal(err)
	}
	co := catalog.Course{ProviderID: p.ID, ExternalID: "BST", Name: "Basic Safety", CreatedAt: time.Now()}
	if err := db.CreateCourse(ctx, &co); err != nil {
		t.Fatal(err)
	}
	cl := newClass(t, co, "W40")
	if err := db.CreateClass(ctx, &cl); err != nil {
		t.Fatal(err)
	}
	return p, co, cl
}

func newClass(t testing.TB, co catalog.Course, ext string) catalog.Class {
	t.Helper()
	cl, err := catalog.NewClass(co, catalog.ClassFields{
		ExternalID: ptr(ext), Location: ptr("Oslo"), AvailableSeats: ptr("10"),
		EnrollmentDeadline: ptr("2030-09-20"), CancellationDeadline: ptr("2030-09-25"),
		StartDate: ptr("2030-10-01"), StartTime: ptr("09:00"), EndDate: ptr("2030-10-01"), EndTime: ptr("16:00:30"),
		AddressLine1: ptr("Street 1"), AddressLine2: ptr("Floor 2"), City: ptr("Oslo"), ZipCode: ptr("0150"), Country: ptr("NO"),
		Currency: ptr("EUR"), Amount: ptr("99.95"), SendScheduleInfo: ptr("false"), TimeZone: ptr("America/New_York"),
	}, "Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	cl.CreatedAt, cl.UpdatedAt = time.Now().UTC().Truncate(time.Millisecond), time.Now().UTC().Truncate(time.Millisecond)
	return cl
}

func TestStore(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := storetest.Open(t, dialect)
		p, co, cl := seed(t, db)

		t.Run("not found is an error", func(t *testing.T) {
			if _, err := db.ProviderByUsername(ctx, "nobody"); !errs.Is(err, errs.NotFound) {
				t.Errorf("ProviderByUsername(nobody) = %v, want NotFound", err)
			}
			if _, err := db.ProviderByID(ctx, 9999); !errs.Is(err, errs.NotFound) {
				t.Errorf("ProviderByID(9999) = %v, want NotFound", err)
			}
			_, err := db.ModifyClass(ctx, co.ID, "NOPE", func(*catalog.Class) error { return nil }, nil)
			if !errs.Is(err, errs.NotFound) {
				t.Errorf("ModifyClass(NOPE) = %v, want NotFound", err)
			}
		})

		t.Run("duplicates are conflicts", func(t *testing.T) {
			dup := catalog.Provider{Name: "Again", Username: "acme", PasswordHash: "y"}
			if err := db.CreateProvider(ctx, &dup); !errs.Is(err, errs.Conflict) {
				t.Errorf("duplicate username: %v, want Conflict", err)
			}
			c2 := catalog.Course{ProviderID: p.ID, ExternalID: "BST", Name: "Dup"}
			if err := db.CreateCourse(ctx, &c2); !errs.Is(err, errs.Conflict) {
				t.Errorf("duplicate course: %v, want Conflict", err)
			}
			again := newClass(t, co, "W40")
			if err := db.CreateClass(ctx, &again); !errs.Is(err, errs.Conflict) {
				t.Errorf("duplicate class: %v, want Conflict", err)
			}
		})

		t.Run("a class round-trips exactly", func(t *testing.T) {
			got, err := db.Classes(ctx, co.ID)
			if err != nil || len(got) != 1 {
				t.Fatalf("Classes = %v, %v", got, err)
			}
			g := got[0]
			if g.ID != cl.ID || g.CourseExternalID != "BST" || g.StartTime.String() != "09:00" || g.EndTime.String() != "16:00:30" ||
				g.Price != (catalog.Money{Currency: "EUR", Minor: 9995}) || g.SendScheduleInfo || g.TimeZone != "America/New_York" ||
				g.Address != cl.Address || g.StartDate != cl.StartDate || g.Cancelled() || !g.CreatedAt.Equal(cl.CreatedAt) {
				t.Errorf("round trip:\n got %+v\nwant %+v", g, cl)
			}
		})

		t.Run("an error in ModifyClass changes nothing", func(t *testing.T) {
			_, err := db.ModifyClass(ctx, co.ID, "W40", func(c *catalog.Class) error {
				c.Location = "Changed"
				return errs.E(errs.Conflict, "no")
			}, nil)
			if !errs.Is(err, errs.Conflict) {
				t.Fatalf("err = %v", err)
			}
			got, _ := db.Classes(ctx, co.ID)
			if got[0].Location != "Oslo" {
				t.Errorf("location = %q after an aborted change", got[0].Location)
			}
		})

		t.Run("ModifyClass's then runs in the change's transaction", func(t *testing.T) {
			for _, fail := range []bool{true, false} {
				before, err := db.ListNotifications(ctx, booking.NotificationFilter{Limit: 1000})
				if err != nil {
					t.Fatal(err)
				}
				_, err = db.ModifyClass(ctx, co.ID, "W40", func(c *catalog.Class) error {
					c.Location = "Then"
					return nil
				}, func(ctx context.Context, c catalog.Class) error {
					// A read with then's context sees the change not yet committed.
					if got, err := db.Classes(ctx, co.ID); err != nil || got[0].Location != "Then" {
						return errs.E(errs.Internal, "then reads %+v, %v outside the change", got, err)
					}
					err := db.CreateNotifications(ctx, []booking.Notification{{Kind: "class_cancelled", To: "x@example.com",
						Subject: "s", Body: "b", CreatedAt: time.Now()}})
					if err == nil && fail {
						err = errs.E(errs.Unavailable, "outbox down")
					}
					return err
				})
				if (err != nil) != fail {
					t.Fatalf("fail %v: err = %v", fail, err)
				}
				after, _ := db.ListNotifications(ctx, booking.NotificationFilter{Limit: 1000})
				got, _ := db.Classes(ctx, co.ID)
				if committed := !fail; (got[0].Location == "Then") != committed || (len(after) == len(before)+1) != committed {
					t.Errorf("fail %v: location %q, messages %d → %d; want the change and its message committed %v",
						fail, got[0].Location, len(before), len(after), committed)
				}
			}
			if _, err := db.ModifyClass(ctx, co.ID, "W40", func(c *catalog.Class) error { c.Location = "Oslo"; return nil }, nil); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("concurrent changes never lose each other", func(t *testing.T) {
			// Each writer adds one seat by read-modify-write; without the row lock some
			// increments would be lost.
			const writers = 20
			var wg sync.WaitGroup
			for range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := db.ModifyClass(ctx, co.ID, "W40", func(c *catalog.Class) error {
						c.AvailableSeats++
						return nil
					}, nil)
					if err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			got, _ := db.Classes(ctx, co.ID)
			if got[0].AvailableSeats != 10+writers {
				t.Errorf("seats = %d, want %d", got[0].AvailableSeats, 10+writers)
			}
		})

		t.Run("delete only unbooked classes", func(t *testing.T) {
			booked := newClass(t, co, "BOOKED")
			if err := db.CreateClass(ctx, &booked); err != nil {
				t.Fatal(err)
			}
			if _, err := db.SQL().Exec(`UPDATE classes SET ever_booked = TRUE WHERE id = $1`, booked.ID); err != nil {
				t.Fatal(err)
			}
			for _, tt := range []struct {
				id   int64
				want bool
			}{{booked.ID, false}, {cl.ID, true}, {cl.ID, false}} {
				got, err := db.DeleteClassIfUnbooked(ctx, tt.id)
				if err != nil || got != tt.want {
					t.Errorf("DeleteClassIfUnbooked(%d) = %v, %v; want %v", tt.id, got, err, tt.want)
				}
			}
		})

		t.Run("courses filter", func(t *testing.T) {
			other := catalog.Provider{Name: "Other", Username: "other", PasswordHash: "x"}
			if err := db.CreateProvider(ctx, &other); err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				c := catalog.Course{ProviderID: other.ID, ExternalID: "O" + strconv.Itoa(i), Name: "Other " + strconv.Itoa(i)}
				if err := db.CreateCourse(ctx, &c); err != nil {
					t.Fatal(err)
				}
			}
			sameExt := catalog.Course{ProviderID: other.ID, ExternalID: "BST", Name: "Other's BST"}
			if err := db.CreateCourse(ctx, &sameExt); err != nil {
				t.Fatalf("another provider may reuse an external id: %v", err)
			}
			for _, tt := range []struct {
				f    catalog.CourseFilter
				want int
			}{
				{catalog.CourseFilter{}, 5},
				{catalog.CourseFilter{ProviderID: &other.ID}, 4},
				{catalog.CourseFilter{ExternalID: ptr("BST")}, 2},
				{catalog.CourseFilter{ProviderID: &p.ID, ExternalID: ptr("BST")}, 1},
			} {
				got, err := db.Courses(ctx, tt.f)
				if err != nil || len(got) != tt.want {
					t.Errorf("Courses(%+v) = %d courses, %v; want %d", tt.f, len(got), err, tt.want)
				}
			}
		})
	})
}

func TestOpenRejectsUnknownURL(t *testing.T) {
	for _, u := range []string{"mysql://x", "", "/tmp/x.db"} {
		if _, err := store.Open(context.Background(), u); err == nil {
			t.Errorf("Open(%q) succeeded", u)
		}
	}
}

func TestRedact(t *testing.T) {
	got := store.Redact("postgres://bob:secret@db:5432/tportal")
	if got != "postgres://bob:xxxxx@db:5432/tportal" {
		t.Errorf("Redact = %q", got)
	}
}
