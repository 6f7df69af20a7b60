package booking_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/store/storetest"
)

// A provider that follows the seed knows only the reference it answered: every
// method for providers takes it as well as the portal's.
func TestProviderUsesItsOwnReference(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		e := newEnv(t, dialect, callTimeout)
		fp := newFakeProvider(t)
		// The provider answers the student's first name as its reference, so a test
		// can make two bookings share one.
		fp.onReserve(func(w http.ResponseWriter, r *http.Request) {
			jsonAnswer(`{"successful":"true","bookingReference":"`+r.URL.Query().Get("studentFirstName")+`","errorMessage":""}`)(w, r)
		})
		fp.onCancel(jsonAnswer(`{"cancelled":"true","errorMessage":""}`))
		acme, co := e.addProvider(t, "acme", fp)
		other, otherCourse := e.addProvider(t, "other", fp)
		class := e.addClass(t, acme, co, "C1", 10)
		otherClass := e.addClass(t, other, otherCourse, "C1", 10)

		first := mustBook(t, e, class.ID, "1004")
		second := mustBook(t, e, class.ID, "1005")
		othersBooking := mustBook(t, e, otherClass.ID, "1004") // the same number at another provider

		lookups := []struct {
			name   string
			caller catalog.Provider
			ref    string
			want   string // the portal reference found; "" when an error is wanted
			code   errs.Code
		}{
			{"own reference", acme, "1004", first.Reference, ""},
			{"another own reference", acme, "1005", second.Reference, ""},
			{"portal reference", acme, second.Reference, second.Reference, ""},
			{"the other provider's same number is its own", other, "1004", othersBooking.Reference, ""},
			{"another provider's portal reference", other, first.Reference, "", errs.Forbidden},
			{"a reference of the other provider is unknown here", other, "1005", "", errs.NotFound},
			{"unknown number", acme, "9999", "", errs.NotFound},
			{"empty", acme, "", "", errs.Invalid},
		}
		for _, l := range lookups {
			b, err := e.svc.ForProvider(ctx, l.caller, l.ref)
			if l.want != "" && (err != nil || b.Reference != l.want) {
				t.Errorf("%s: ForProvider(%s, %q) = %q, %v; want %q", l.name, l.caller.Username, l.ref, b.Reference, err, l.want)
			}
			if l.want == "" && errs.CodeOf(err) != l.code {
				t.Errorf("%s: ForProvider(%s, %q) = %v, want %s", l.name, l.caller.Username, l.ref, err, l.code)
			}
		}

		// Reports and documents by the provider's own reference reach the booking.
		e.clock.Set(31 * 24 * time.Hour) // after the class started
		b, err := e.svc.UpdateStatus(ctx, acme, "1005", "COMPLETED", class.StartDate.String())
		if err != nil || b.Reference != second.Reference || e.get(t, second.Reference).State != booking.Completed {
			t.Errorf("UpdateStatus by own reference = %s %s, %v", b.Reference, b.State, err)
		}
		if e.get(t, first.Reference).State != booking.Reserved {
			t.Error("the other booking changed")
		}
		d, err := e.svc.AddDocument(ctx, acme, "1005", "", "certificate.pdf", []byte("%PDF-1.4 certificate"))
		if err != nil || d.BookingID != second.ID {
			t.Errorf("AddDocument by own reference = %+v, %v; want on booking %d", d, err, second.ID)
		}
		// A retried upload (its answer lost) returns the first document; the same bytes
		// under another name, or as another type, are a second document.
		for _, up := range []struct {
			name, docType, file string
			same                bool
		}{
			{"repeat", "", "certificate.pdf", true},
			{"repeat by portal reference", "COURSE_CERTIFICATE", "certificate.pdf", true},
			{"other name", "", "certificate-2.pdf", false},
			{"other type", "OTHER", "certificate.pdf", false},
		} {
			again, err := e.svc.AddDocument(ctx, acme, map[bool]string{true: second.Reference, false: "1005"}[up.docType != ""], up.docType, up.file, []byte("%PDF-1.4 certificate"))
			if err != nil || (again.ID == d.ID) != up.same {
				t.Errorf("%s: AddDocument = id %d, %v; first was %d, want same=%v", up.name, again.ID, err, d.ID, up.same)
			}
		}
		if docs, err := e.svc.Documents(ctx, e.get(t, second.Reference)); err != nil || len(docs) != 3 {
			t.Errorf("documents after repeats = %d, %v; want 3 (the first, other name, other type)", len(docs), err)
		}
		e.clock.Set(0)

		// A provider that reuses a reference: two live bookings are ambiguous, so
		// nothing is reported on the wrong student; once one is cancelled the reference
		// means the live one.
		again := mustBook(t, e, class.ID, "1004")
		if _, err := e.svc.UpdateStatus(ctx, acme, "1004", "NO_SHOW", ""); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("UpdateStatus on a reference of two live bookings = %v, want Conflict", err)
		}
		for _, ref := range []string{first.Reference, again.Reference} {
			if got := e.get(t, ref).State; got != booking.Reserved {
				t.Errorf("booking %s is %s after the ambiguous report, want RESERVED", ref, got)
			}
		}
		if _, err := e.svc.Cancel(ctx, first.Reference); err != nil {
			t.Fatalf("Cancel: %v", err)
		}
		if b, err := e.svc.ForProvider(ctx, acme, "1004"); err != nil || b.Reference != again.Reference {
			t.Errorf("ForProvider(reused reference, the first cancelled) = %s, %v; want the live %s", b.Reference, err, again.Reference)
		}
		if _, err := e.svc.Cancel(ctx, again.Reference); err != nil {
			t.Fatalf("Cancel: %v", err)
		}
		if b, err := e.svc.ForProvider(ctx, acme, "1004"); err != nil || b.Reference != again.Reference || b.State != booking.Cancelled {
			t.Errorf("ForProvider(reused reference, all cancelled) = %s %s, %v; want the newest, %s", b.Reference, b.State, err, again.Reference)
		}
		if _, err := e.svc.UpdateStatus(ctx, acme, "1004", "NO_SHOW", ""); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("UpdateStatus on a cancelled booking = %v, want Conflict", err)
		}
	})
}

// While a reserve call to the provider is in flight, a reference that matches none
// of its bookings may be the one it is about to answer: 404 with Retry-After
// (errs.Unavailable), not a plain 404 that makes it release the seat.
func TestUnknownReferenceDuringReserve(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		e := newEnv(t, dialect, 5*time.Second)
		fp := newFakeProvider(t)
		acme, co := e.addProvider(t, "acme", fp)
		other, _ := e.addProvider(t, "other", newFakeProvider(t))
		class := e.addClass(t, acme, co, "C1", 10)

		type seen struct{ own, portal, others error }
		inside := make(chan seen, 1)
		fp.onReserve(func(w http.ResponseWriter, r *http.Request) {
			// As a seed-faithful provider does: confirm with its own number before answering.
			var s seen
			_, s.own = e.svc.ForProvider(ctx, acme, "1004")
			_, s.portal = e.svc.ForProvider(ctx, acme, r.URL.Query().Get("trainingportalBookingReference"))
			_, s.others = e.svc.ForProvider(ctx, other, "1004")
			inside <- s
			jsonAnswer(`{"successful":"true","bookingReference":"1004","errorMessage":""}`)(w, r)
		})
		b := mustBook(t, e, class.ID, "Ola")
		s := <-inside
		if errs.CodeOf(s.own) != errs.Unavailable {
			t.Errorf("own reference during the reserve call = %v, want Unavailable (404 + Retry-After)", s.own)
		}
		if errs.CodeOf(s.portal) != errs.Unavailable {
			t.Errorf("portal reference during the reserve call = %v, want Unavailable", s.portal)
		}
		if errs.CodeOf(s.others) != errs.NotFound {
			t.Errorf("another provider, with nothing in flight = %v, want NotFound", s.others)
		}
		if got, err := e.svc.ForProvider(ctx, acme, "1004"); err != nil || got.Reference != b.Reference {
			t.Errorf("own reference after the answer = %s, %v; want %s", got.Reference, err, b.Reference)
		}
		if _, err := e.svc.ForProvider(ctx, acme, "1005"); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("unknown reference with nothing in flight = %v, want NotFound", err)
		}
	})
}

// BenchmarkForProvider measures getBookingInformation's look-up, by the portal's
// reference and by the provider's own, among 2000 bookings of the provider.
func BenchmarkForProvider(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			if dialect == "postgres" && os.Getenv(storetest.EnvPostgres) == "" {
				b.Skip("set " + storetest.EnvPostgres + " to benchmark PostgreSQL")
			}
			ctx := context.Background()
			e := newEnv(b, dialect, 5*time.Second)
			fp := newFakeProvider(b)
			var n atomic.Int64
			fp.onReserve(func(w http.ResponseWriter, r *http.Request) {
				jsonAnswer(fmt.Sprintf(`{"successful":true,"bookingReference":"%d"}`, 1000+n.Add(1)))(w, r)
			})
			p, co := e.addProvider(b, "acme", fp)
			class := e.addClass(b, p, co, "C1", 100000)
			const bookings = 2000
			refs := make([]string, 0, bookings)
			for range bookings {
				bk, err := e.svc.Book(ctx, request(class.ID, "Bench"))
				noErr(b, err, "Book")
				refs = append(refs, bk.Reference)
			}
			for _, by := range []string{"get", "portal", "own", "unknown"} {
				b.Run(by, func(b *testing.B) {
					i := 0
					for b.Loop() {
						ref := refs[i%bookings]
						switch by {
						case "own":
							ref = strconv.Itoa(1001 + i%bookings)
						case "unknown":
							ref = strconv.Itoa(1001 + bookings + i)
						}
						var err error
						if by == "get" {
							_, err = e.svc.Get(ctx, ref)
						} else {
							_, err = e.svc.ForProvider(ctx, p, ref)
						}
						if (err != nil) != (by == "unknown") {
							b.Fatalf("%s %s: %v", by, ref, err)
						}
						i++
					}
				})
			}
		})
	}
}
