package booking_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/providercall"
	"github.com/tportal/tportal/internal/store"
	"github.com/tportal/tportal/internal/store/storetest"
)

// callTimeout is the provider client's total timeout in these tests.
const callTimeout = 300 * time.Millisecond

func TestBookAgainstRealProviders(t *testing.T) {
	tenMB := func(w http.ResponseWriter, r *http.Request) {
		// A well-formed start, then far more than the portal reads: it is the size
		// that must fail the call. No Content-Length, so the portal must count.
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"successful":"true","bookingReference":"P-9","errorMessage":"`))
		chunk := []byte(strings.Repeat("x", 64<<10))
		for range 160 { // 10 MiB
			if _, err := w.Write(chunk); err != nil {
				return // the portal stopped reading, as it should
			}
		}
		_, _ = w.Write([]byte(`"}`))
	}
	slow := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(3 * time.Second):
		}
		jsonAnswer(`{"successful":"true","bookingReference":"P-SLOW","errorMessage":""}`)(w, r)
	}
	cases := []struct {
		name    string
		handler func(fp *fakeProvider) http.HandlerFunc
		code    errs.Code // "" for a nil error
		state   booking.State
		ref     string   // the provider reference recorded
		msg     []string // substrings of the booking's Message and of the error
	}{
		{name: "a JSON successful", state: booking.Reserved, ref: "P-1",
			handler: func(*fakeProvider) http.HandlerFunc {
				return jsonAnswer(`{"successful":"true","bookingReference":"P-1","errorMessage":""}`)
			}},
		{name: "b XML successful", state: booking.Reserved, ref: "P-2",
			handler: func(*fakeProvider) http.HandlerFunc {
				// text/plain on purpose: the portal reads what the body is, not what it claims.
				return answer(http.StatusOK, "text/plain", `<reservation><successful>true</successful><bookingReference>P-2</bookingReference></reservation>`)
			}},
		{name: "c typo'd keys", state: booking.Reserved, ref: "P-3",
			handler: func(*fakeProvider) http.HandlerFunc {
				return jsonAnswer(`{"SUCCESSFUL":1,"BookingReference":"P-3","errorMesssage":""}`)
			}},
		{name: "d string boolean TRUE", state: booking.Reserved, ref: "P-4",
			handler: func(*fakeProvider) http.HandlerFunc {
				return jsonAnswer(`{"successful":"TRUE","bookingReference":"P-4"}`)
			}},
		{name: "e refused", code: errs.Conflict, state: booking.Rejected, msg: []string{"Class is full"},
			handler: func(*fakeProvider) http.HandlerFunc {
				return jsonAnswer(`{"successful":false,"errorMessage":"Class is full"}`)
			}},
		{name: "f too slow", code: errs.BadGateway, state: booking.Abandoned, msg: []string{"within", "300ms"},
			handler: func(*fakeProvider) http.HandlerFunc { return slow }},
		{name: "g HTTP 500", code: errs.BadGateway, state: booking.Abandoned, msg: []string{"HTTP 500"},
			handler: func(*fakeProvider) http.HandlerFunc {
				return answer(http.StatusInternalServerError, "text/plain", "database on fire")
			}},
		{name: "h HTML page", code: errs.BadGateway, state: booking.Abandoned, msg: []string{"HTML"},
			handler: func(*fakeProvider) http.HandlerFunc {
				return answer(http.StatusOK, "application/json", "<!DOCTYPE html><html><body><h1>Please log in</h1></body></html>")
			}},
		{name: "i 10 MB body", code: errs.BadGateway, state: booking.Abandoned, msg: []string{"64 KiB"},
			handler: func(*fakeProvider) http.HandlerFunc { return tenMB }},
		{name: "j never answers", code: errs.BadGateway, state: booking.Abandoned, msg: []string{"within", "300ms"},
			handler: func(fp *fakeProvider) http.HandlerFunc { return fp.hold }},
		{name: "k successful without bookingReference", code: errs.BadGateway, state: booking.Abandoned, msg: []string{"bookingReference"},
			handler: func(*fakeProvider) http.HandlerFunc {
				return jsonAnswer(`{"successful":true,"errorMessage":""}`)
			}},
	}
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, callTimeout)
		fp := newFakeProvider(t)
		p, co := e.addProvider(t, "acme", fp)
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				const seats = 5
				class := e.addClass(t, p, co, fmt.Sprintf("CLASS-%d", i), seats)
				fp.onReserve(tc.handler(fp))
				before := len(fp.reserveCalls())
				req := request(class.ID, "Ola")

				start := time.Now()
				b, err := e.svc.Book(context.Background(), req)
				elapsed := time.Since(start)

				t.Logf("state %s, message %q, error %v", b.State, b.Message, err)
				if tc.code == "" {
					if err != nil {
						t.Fatalf("Book: %v, want no error", err)
					}
				} else if got := errs.CodeOf(err); got != tc.code {
					t.Fatalf("Book error = %v (code %q), want code %q", err, got, tc.code)
				}
				if elapsed > 2*time.Second {
					t.Errorf("Book took %v; the client timeout is %v", elapsed, callTimeout)
				}
				if b.Reference == "" {
					t.Fatalf("Book returned no booking (err %v)", err)
				}
				if b.State != tc.state {
					t.Errorf("State = %s, want %s (message %q)", b.State, tc.state, b.Message)
				}
				if b.ProviderReference != tc.ref {
					t.Errorf("ProviderReference = %q, want %q", b.ProviderReference, tc.ref)
				}
				for _, m := range tc.msg {
					if !strings.Contains(b.Message, m) {
						t.Errorf("Message = %q, want it to contain %q", b.Message, m)
					}
					if !strings.Contains(errs.MessageOf(err), m) {
						t.Errorf("error shown = %q, want it to contain %q", errs.MessageOf(err), m)
					}
				}
				if tc.state == booking.Reserved && b.Message != "" {
					t.Errorf("Message = %q for a reserved booking, want none", b.Message)
				}
				if tc.state == booking.Abandoned && len(b.Message) > 500 {
					t.Errorf("Message is %d bytes long; the provider's answer leaked into it", len(b.Message))
				}

				// What the store holds agrees with what Book returned.
				stored := e.get(t, b.Reference)
				if stored.State != tc.state || stored.ProviderReference != tc.ref || stored.Message != b.Message {
					t.Errorf("stored booking = %s/%q/%q, want %s/%q/%q", stored.State, stored.ProviderReference, stored.Message,
						tc.state, tc.ref, b.Message)
				}
				if want := tc.state == booking.Abandoned; stored.CleanupPending != want {
					t.Errorf("CleanupPending = %v, want %v", stored.CleanupPending, want)
				}
				wantSeats := seats
				if tc.state == booking.Reserved {
					wantSeats = seats - 1
				}
				if got := e.seats(t, class.ID); got != wantSeats {
					t.Errorf("availableSeats = %d, want %d", got, wantSeats)
				}

				// The reserve call carried everything the provider needs.
				calls := fp.reserveCalls()[before:]
				if len(calls) != 1 {
					t.Fatalf("provider saw %d reserve calls, want 1", len(calls))
				}
				q := calls[0]
				want := map[string]string{
					"externalCourseClassId":          class.ExternalID,
					"externalCourseId":               class.CourseExternalID,
					"trainingportalBookingReference": b.Reference,
					"studentFirstName":               req.Student.FirstName,
					"studentLastName":                req.Student.LastName,
					"studentEmailAddress":            req.Student.Email,
					"studentPhoneNumber":             req.Student.Phone,
					"studentBirthDate":               req.StudentBirthDate,
					"enrollerFirstName":              req.Enroller.FirstName,
					"enrollerLastName":               req.Enroller.LastName,
					"enrollerEmailAddress":           req.Enroller.Email,
					"enrollerPhoneNumber":            req.Enroller.Phone,
					"company":                        req.Company,
				}
				for k, v := range want {
					if got := q.Get(k); got != v || v == "" {
						t.Errorf("reserve call %s = %q, want %q", k, got, v)
					}
				}
				if q.Has("bookingReference") {
					t.Errorf("reserve call sent bookingReference %q: that word is the provider's reference", q.Get("bookingReference"))
				}
				if b.CourseExternalID != class.CourseExternalID {
					t.Errorf("booking's course = %q, want %q", b.CourseExternalID, class.CourseExternalID)
				}

				// The call is journaled once, written with the answer, whatever the answer.
				journal, err := e.db.Calls(context.Background(), store.CallFilter{BookingReference: b.Reference})
				noErr(t, err, "Calls")
				if len(journal) != 1 {
					t.Fatalf("journal holds %d calls for the booking, want 1: %+v", len(journal), journal)
				}
				wantOutcome := providercall.OutcomeAnswered
				if tc.state == booking.Abandoned {
					wantOutcome = providercall.OutcomeFailed
				}
				if j := journal[0]; j.Kind != providercall.KindReserve || j.Outcome != wantOutcome || j.ProviderID != p.ID {
					t.Errorf("journal entry = %s/%s/provider %d, want %s/%s/provider %d",
						j.Kind, j.Outcome, j.ProviderID, providercall.KindReserve, wantOutcome, p.ID)
				}
			})
		}
	})
}

func TestNoOverbooking(t *testing.T) {
	const (
		seats      = 10
		concurrent = 200
	)
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		var envs []*env
		if dialect == "postgres" {
			// Two portal processes sharing one database.
			a, b := openTwice(t, dialect, 5*time.Second)
			envs = []*env{a, b}
		} else {
			envs = []*env{newEnv(t, dialect, 5*time.Second)}
		}
		fp := newFakeProvider(t)
		var refs atomic.Int64
		fp.onReserve(func(w http.ResponseWriter, r *http.Request) {
			jsonAnswer(fmt.Sprintf(`{"successful":true,"bookingReference":"P-%d"}`, refs.Add(1)))(w, r)
		})
		p, co := envs[0].addProvider(t, "acme", fp)
		class := envs[0].addClass(t, p, co, "POPULAR", seats)

		type result struct {
			b   booking.Booking
			err error
		}
		results := make([]result, concurrent)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range concurrent {
			svc := envs[i%len(envs)].svc
			wg.Go(func() {
				<-start
				b, err := svc.Book(context.Background(), request(class.ID, fmt.Sprintf("Student%d", i)))
				results[i] = result{b, err}
			})
		}
		close(start)
		wg.Wait()

		var reserved, full int
		provRefs := map[string]bool{}
		for i, r := range results {
			switch {
			case r.err == nil:
				if r.b.State != booking.Reserved {
					t.Errorf("booking %d: no error but state %s", i, r.b.State)
				}
				reserved++
				provRefs[r.b.ProviderReference] = true
			case errs.CodeOf(r.err) == errs.Conflict && strings.Contains(r.err.Error(), "no seats left"):
				if r.b.Reference != "" {
					t.Errorf("booking %d: refused for lack of seats but a booking %s was returned", i, r.b.Reference)
				}
				full++
			default:
				t.Errorf("booking %d: unexpected error %v (code %s)", i, r.err, errs.CodeOf(r.err))
			}
		}
		if reserved != seats || full != concurrent-seats {
			t.Errorf("%d reserved and %d refused for lack of seats, want %d and %d", reserved, full, seats, concurrent-seats)
		}
		if len(provRefs) != reserved {
			t.Errorf("%d distinct provider references for %d reserved bookings", len(provRefs), reserved)
		}
		for i, e := range envs {
			if got := e.seats(t, class.ID); got != 0 {
				t.Errorf("availableSeats seen by instance %d = %d, want 0", i, got)
			}
		}
		if n := len(fp.reserveCalls()); n != seats {
			t.Errorf("provider saw %d reserve calls, want %d", n, seats)
		}
		stored, err := envs[0].db.Bookings(context.Background(), booking.Filter{ClassID: class.ID})
		noErr(t, err, "Bookings")
		if len(stored) != seats {
			t.Errorf("%d bookings stored, want %d", len(stored), seats)
		}
		for _, b := range stored {
			if b.State != booking.Reserved {
				t.Errorf("stored booking %s is %s, want RESERVED", b.Reference, b.State)
			}
		}
	})
}
