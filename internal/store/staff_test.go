package store_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/providercall"
	"github.com/tportal/tportal/internal/store"
	"github.com/tportal/tportal/internal/store/storetest"
)

// addBooking stores a PENDING booking of the class made at the time.
func addBooking(t *testing.T, db *store.DB, cl catalog.Class, ref, first, last, email, company string, at time.Time) booking.Booking {
	t.Helper()
	b := booking.Booking{Reference: ref, ClassID: cl.ID, Student: booking.Person{FirstName: first, LastName: last, Email: email},
		Enroller: booking.Person{FirstName: "Kari", LastName: "Nordmann", Email: "kari@" + strings.ToLower(company) + ".example"},
		Company:  company, State: booking.Pending, CreatedAt: at, UpdatedAt: at}
	if err := db.CreateBooking(context.Background(), &b, func(catalog.Class) error { return nil }); err != nil {
		t.Fatal(err)
	}
	return b
}

func refs(fs []booking.Found) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Reference)
	}
	return out
}

func TestStaffReads(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := storetest.Open(t, dialect)
		p, co, cl := seed(t, db)
		other := catalog.Provider{Name: "Nord Kurs", Username: "nord", PasswordHash: "x", CreatedAt: time.Now()}
		if err := db.CreateProvider(ctx, &other); err != nil {
			t.Fatal(err)
		}
		co2 := catalog.Course{ProviderID: other.ID, ExternalID: "FA", Name: "First Aid", CreatedAt: time.Now()}
		if err := db.CreateCourse(ctx, &co2); err != nil {
			t.Fatal(err)
		}
		cl2 := newClass(t, co2, "FA-1")
		if err := db.CreateClass(ctx, &cl2); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		old := now.Add(-48 * time.Hour)
		a := addBooking(t, db, cl, "REF-A", "Ola", "Hansen", "ola@example.com", "Acme", old)
		b := addBooking(t, db, cl, "REF-B", "Per", "Olsen", "per@example.com", "Acme", now.Add(-time.Hour))
		c := addBooking(t, db, cl2, "REF-C", "Åse", "Berg_Lund", "ase@example.com", "Fjord 100%", now.Add(-time.Minute))

		// A reservation, then a status update: two events, in order.
		reserved := now.Add(-30 * time.Minute)
		if _, err := db.ModifyBooking(ctx, b.Reference, func(x *booking.Booking) error {
			x.State, x.ProviderReference, x.UpdatedAt = booking.Reserved, "ACME-77", reserved
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ModifyBooking(ctx, b.Reference, func(x *booking.Booking) error {
			x.State, x.CompletionDate, x.UpdatedAt = booking.Completed, "2030-10-01", now
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		// A change that changes nothing the history shows records nothing.
		if _, err := db.ModifyBooking(ctx, b.Reference, func(*booking.Booking) error { return nil }); err != nil {
			t.Fatal(err)
		}
		// A change that fails records nothing either: the event is in its transaction.
		if _, err := db.ModifyBooking(ctx, c.Reference, func(x *booking.Booking) error {
			x.State = booking.Rejected
			return errs.E(errs.Conflict, "no")
		}); !errs.Is(err, errs.Conflict) {
			t.Fatalf("failing modify: %v", err)
		}
		if _, err := db.ModifyBooking(ctx, a.Reference, func(x *booking.Booking) error {
			x.State, x.Message, x.UpdatedAt = booking.Rejected, "full", old.Add(time.Second)
			return nil
		}); err != nil {
			t.Fatal(err)
		}

		t.Run("search", func(t *testing.T) {
			for _, tc := range []struct {
				name string
				q    booking.Search
				want []string
			}{
				{"all, newest first", booking.Search{}, []string{"REF-C", "REF-B", "REF-A"}},
				{"reference", booking.Search{Text: "ref-b"}, []string{"REF-B"}},
				{"provider reference", booking.Search{Text: "acme-77"}, []string{"REF-B"}},
				{"full name", booking.Search{Text: "ola hansen"}, []string{"REF-A"}},
				{"last name", booking.Search{Text: "OLSEN"}, []string{"REF-B"}},
				{"e-mail", booking.Search{Text: "per@example"}, []string{"REF-B"}},
				{"enroller e-mail", booking.Search{Text: "kari@acme"}, []string{"REF-B", "REF-A"}},
				{"company", booking.Search{Text: "fjord"}, []string{"REF-C"}},
				{"percent is literal", booking.Search{Text: "100%"}, []string{"REF-C"}},
				{"underscore is literal", booking.Search{Text: "g_l"}, []string{"REF-C"}},
				{"underscore matches no other letter", booking.Search{Text: "n_ord"}, nil},
				{"provider", booking.Search{ProviderID: other.ID}, []string{"REF-C"}},
				{"course", booking.Search{CourseID: co.ID}, []string{"REF-B", "REF-A"}},
				{"states", booking.Search{States: []booking.State{booking.Completed, booking.Rejected}}, []string{"REF-B", "REF-A"}},
				{"created from", booking.Search{CreatedFrom: now.Add(-2 * time.Hour)}, []string{"REF-C", "REF-B"}},
				{"created to", booking.Search{CreatedTo: now.Add(-2 * time.Hour)}, []string{"REF-A"}},
				{"page", booking.Search{BeforeID: c.ID, Limit: 1}, []string{"REF-B"}},
				{"nothing", booking.Search{Text: "nobody"}, nil},
			} {
				t.Run(tc.name, func(t *testing.T) {
					got, err := db.SearchBookings(ctx, tc.q)
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(refs(got), tc.want) {
						t.Errorf("found %v, want %v", refs(got), tc.want)
					}
				})
			}
			got, err := db.SearchBookings(ctx, booking.Search{Text: "REF-C"})
			if err != nil || len(got) != 1 || got[0].ProviderName != "Nord Kurs" || got[0].CourseName != "First Aid" {
				t.Errorf("names of REF-C: %+v, %v", got, err)
			}
		})

		t.Run("events", func(t *testing.T) {
			evs, err := db.BookingEvents(ctx, b.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 2 {
				t.Fatalf("%d events, want 2: %+v", len(evs), evs)
			}
			if evs[0].From != booking.Pending || evs[0].To != booking.Reserved || !evs[0].At.Equal(reserved) {
				t.Errorf("first event %+v", evs[0])
			}
			if evs[1].From != booking.Reserved || evs[1].To != booking.Completed || evs[1].CompletionDate != "2030-10-01" || !evs[1].At.Equal(now) {
				t.Errorf("second event %+v", evs[1])
			}
			if evs, err := db.BookingEvents(ctx, c.ID); err != nil || len(evs) != 0 {
				t.Errorf("failed change left events %+v, %v", evs, err)
			}
		})

		t.Run("dashboard states", func(t *testing.T) {
			got, err := db.BookingStates(ctx, now.Add(-24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			want := map[booking.State]int{booking.Completed: 1, booking.Pending: 1}
			if len(got) != len(want) || got[booking.Completed] != 1 || got[booking.Pending] != 1 {
				t.Errorf("states %v, want %v", got, want)
			}
		})

		t.Run("journal", func(t *testing.T) {
			calls := []providercall.Call{
				{At: now.Add(-48 * time.Hour), ProviderID: p.ID, ProviderName: p.Name, Kind: providercall.KindReserve,
					BookingReference: "REF-A", Latency: 900 * time.Millisecond, Outcome: providercall.OutcomeAnswered},
				{At: now.Add(-time.Hour), ProviderID: p.ID, ProviderName: p.Name, Kind: providercall.KindReserve, URL: "https://acme.example/r?x=1",
					BookingReference: "REF-B", HTTPStatus: 200, Latency: 100 * time.Millisecond, Outcome: providercall.OutcomeAnswered, Success: true,
					RequestMethod: "GET", RequestParams: "studentFirstName=REDACTED\ncompany=Acme\n",
					AnswerContentType: "application/json", AnswerBody: `{"successful": true, "bookingReference": "ACME-77"}`},
				{At: now.Add(-time.Minute), ProviderID: p.ID, ProviderName: p.Name, Kind: providercall.KindCancel,
					BookingReference: "REF-B", HTTPStatus: 503, Latency: 300 * time.Millisecond, Outcome: providercall.OutcomeFailed,
					Error: "provider answered HTTP 503", AnswerBody: "<html>down ø</html>", AnswerTruncated: true},
				{At: now.Add(-time.Minute), ProviderID: other.ID, ProviderName: other.Name, Kind: providercall.KindReserve,
					BookingReference: "REF-C", Latency: 200 * time.Millisecond, Outcome: providercall.OutcomeAnswered},
			}
			for _, c := range calls {
				if err := db.RecordCall(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			for _, tc := range []struct {
				name string
				f    store.CallFilter
				want []string // booking reference/kind, newest first
			}{
				{"all", store.CallFilter{}, []string{"REF-C/reserve", "REF-B/cancel", "REF-B/reserve", "REF-A/reserve"}},
				{"provider", store.CallFilter{ProviderID: other.ID}, []string{"REF-C/reserve"}},
				{"outcome", store.CallFilter{Outcome: providercall.OutcomeFailed}, []string{"REF-B/cancel"}},
				{"kind", store.CallFilter{Kind: providercall.KindReserve, ProviderID: p.ID}, []string{"REF-B/reserve", "REF-A/reserve"}},
				{"booking", store.CallFilter{BookingReference: "REF-B"}, []string{"REF-B/cancel", "REF-B/reserve"}},
				{"since", store.CallFilter{Since: now.Add(-2 * time.Hour), ProviderID: p.ID}, []string{"REF-B/cancel", "REF-B/reserve"}},
				{"limit", store.CallFilter{Limit: 1}, []string{"REF-C/reserve"}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					got, err := db.Calls(ctx, tc.f)
					if err != nil {
						t.Fatal(err)
					}
					var names []string
					for _, c := range got {
						names = append(names, c.BookingReference+"/"+string(c.Kind))
					}
					if !slices.Equal(names, tc.want) {
						t.Errorf("calls %v, want %v", names, tc.want)
					}
				})
			}
			all, err := db.Calls(ctx, store.CallFilter{BookingReference: "REF-B"})
			if err != nil || len(all) != 2 {
				t.Fatalf("calls of REF-B: %v", err)
			}
			paged, err := db.Calls(ctx, store.CallFilter{BookingReference: "REF-B", BeforeID: all[0].ID})
			if err != nil || len(paged) != 1 || paged[0].ID != all[1].ID {
				t.Errorf("the page after %d: %+v, %v", all[0].ID, paged, err)
			}
			got, err := db.Call(ctx, all[1].ID)
			if err != nil {
				t.Fatal(err)
			}
			want := calls[1]
			want.ID = got.ID
			want.At = want.At.UTC()
			if got != want {
				t.Errorf("stored call\n%+v\nwant\n%+v", got, want)
			}
			if got, err := db.Call(ctx, all[0].ID); err != nil || got.AnswerBody != calls[2].AnswerBody || !got.AnswerTruncated {
				t.Errorf("failed call's answer: %+v, %v", got, err)
			}
			if _, err := db.Call(ctx, 99999); !errs.Is(err, errs.NotFound) {
				t.Errorf("unknown call: %v, want NotFound", err)
			}

			times, err := db.CallTimes(ctx, now.Add(-24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			wantTimes := []providercall.ProviderTimes{
				{ProviderID: p.ID, ProviderName: "Acme", Calls: 2, Failed: 1, P50: 100 * time.Millisecond, P95: 300 * time.Millisecond, Max: 300 * time.Millisecond},
				{ProviderID: other.ID, ProviderName: "Nord Kurs", Calls: 1, P50: 200 * time.Millisecond, P95: 200 * time.Millisecond, Max: 200 * time.Millisecond},
			}
			if !slices.Equal(times, wantTimes) {
				t.Errorf("call times\n%+v\nwant\n%+v", times, wantTimes)
			}
		})

		t.Run("notifications", func(t *testing.T) {
			sentAt := now
			ns := []booking.Notification{
				{BookingID: a.ID, Kind: "booking_confirmed", To: "kari@acme.example", Subject: "Booked", Body: "x", CreatedAt: old},
				{BookingID: c.ID, Kind: "class_cancelled", To: "Ase@Example.com", Subject: "Cancelled", Body: "y", CreatedAt: now},
			}
			if err := db.CreateNotifications(ctx, ns); err != nil {
				t.Fatal(err)
			}
			if _, err := db.SQL().ExecContext(ctx, "UPDATE notifications SET sent_at = $1 WHERE id = $2", sentAt.UnixMilli(), ns[0].ID); err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				name string
				f    booking.NotificationFilter
				want []string
			}{
				{"all", booking.NotificationFilter{}, []string{"REF-C", "REF-A"}},
				{"recipient ignoring case", booking.NotificationFilter{Recipient: "ase@EXAMPLE"}, []string{"REF-C"}},
				{"kind", booking.NotificationFilter{Kind: "booking_confirmed"}, []string{"REF-A"}},
				{"unsent", booking.NotificationFilter{Unsent: true}, []string{"REF-C"}},
				{"page", booking.NotificationFilter{BeforeID: ns[1].ID}, []string{"REF-A"}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					got, err := db.ListNotifications(ctx, tc.f)
					if err != nil {
						t.Fatal(err)
					}
					var names []string
					for _, n := range got {
						names = append(names, n.BookingReference)
					}
					if !slices.Equal(names, tc.want) {
						t.Errorf("notifications of %v, want %v", names, tc.want)
					}
				})
			}
			got, _ := db.ListNotifications(ctx, booking.NotificationFilter{Kind: "booking_confirmed"})
			if len(got) != 1 || got[0].SentAt == nil || !got[0].SentAt.Equal(sentAt) {
				t.Errorf("sent notification: %+v", got)
			}
			kinds, err := db.NotificationKinds(ctx)
			if err != nil || !slices.Equal(kinds, []string{"booking_confirmed", "class_cancelled"}) {
				t.Errorf("kinds %v, %v", kinds, err)
			}
		})
	})
}
