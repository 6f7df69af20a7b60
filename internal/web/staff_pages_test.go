package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/providercall"
	"github.com/tportal/tportal/internal/store/storetest"
)

// staffWorld is a portal with bookings in several states, made through the real
// booking service against the test provider, so the journal, the events and the
// documents are the ones real use leaves.
type staffWorld struct {
	e                         *env
	staff                     *client
	reserved, refused, noShow booking.Booking
	cancelled                 booking.Booking
}

func book(t testing.TB, e *env, classID int64, first, last, company string) booking.Booking {
	t.Helper()
	b, err := e.bookings.Book(context.Background(), booking.Request{ClassID: classID,
		Student:  booking.Person{FirstName: first, LastName: last, Email: strings.ToLower(first) + "@example.com"},
		Enroller: booking.Person{FirstName: "Kari", LastName: "Nordmann", Email: "kari@" + strings.ToLower(strings.Fields(company)[0]) + ".example"},
		Company:  company})
	if err != nil && b.Reference == "" {
		t.Fatalf("book %s %s: %v", first, last, err)
	}
	return b
}

func newStaffWorld(t testing.TB, dialect string) *staffWorld {
	t.Helper()
	ctx := context.Background()
	w := &staffWorld{e: newEnv(t, dialect, nil)}
	e := w.e
	open := e.addClass(classSpec{ext: "OPEN", seats: 10})
	refused := e.addClass(classSpec{ext: "REFUSE-1", seats: 4})
	w.reserved = book(t, e, open.ID, "Ola", "Hansen", "Acme Industri AS")
	w.refused = book(t, e, refused.ID, "Per", "Olsen", "Fjord Bygg AS")
	w.noShow = book(t, e, open.ID, "Åse", "Berg", "Fjord Bygg AS")
	w.cancelled = book(t, e, open.ID, "Liv", "Dahl", "Acme Industri AS")
	if _, err := e.bookings.UpdateStatus(ctx, e.acme, w.noShow.Reference, "NO_SHOW", ""); err != nil {
		t.Fatal(err)
	}
	// The history orders what shares a millisecond by kind, not by which came first;
	// a later millisecond keeps the cancel after the booking's confirmation mails.
	time.Sleep(2 * time.Millisecond)
	if _, err := e.bookings.Cancel(ctx, w.cancelled.Reference); err != nil {
		t.Fatal(err)
	}
	if _, err := e.bookings.AddDocument(ctx, e.acme, w.reserved.Reference, "COURSE_CERTIFICATE", "certificate.pdf", []byte("%PDF-1.4 certificate")); err != nil {
		t.Fatal(err)
	}
	// A call that timed out, as the journal records one (Nord has no URLs to call).
	if err := e.db.RecordCall(ctx, providercall.Call{At: time.Now().Add(-time.Hour), ProviderID: e.nord.ID, ProviderName: e.nord.Name,
		Kind: providercall.KindReserve, URL: "https://nord.example/reserve?externalCourseClassId=FA-1", BookingReference: "TP-OLD-1",
		Latency: 10 * time.Second, Outcome: providercall.OutcomeFailed, Error: "no answer within 10s", RequestMethod: "GET",
		RequestParams: "externalCourseClassId=FA-1\nstudentFirstName=REDACTED\n"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.accounts.AddStaff(ctx, "Siri", "Staff", "siri@portal.example", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	w.staff = e.client()
	if p := w.staff.post("/signin", url.Values{"email": {"siri@portal.example"}, "password": {"correct horse battery"}}); p.status != http.StatusSeeOther {
		t.Fatalf("staff sign-in: %d %s", p.status, text(p.doc.Find("main")))
	}
	return w
}

func TestStaffPages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		w := newStaffWorld(t, dialect)
		e := w.e
		enroller := e.client()
		enroller.signUp("Acme Industri AS", "boss@acme.example")
		anonymous := e.client()

		paths := []string{"/staff", "/staff/bookings", "/staff/bookings/" + w.reserved.Reference, "/staff/calls",
			"/staff/calls/1", "/staff/outbox"}
		t.Run("only staff", func(t *testing.T) {
			for _, path := range paths {
				if p := anonymous.get(path); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/signin") {
					t.Errorf("anonymous %s: %d %q", path, p.status, p.header.Get("Location"))
				}
				if p := enroller.get(path); p.status != http.StatusNotFound {
					t.Errorf("enroller %s: %d", path, p.status)
				}
				if p := w.staff.get(path); p.status != http.StatusOK {
					t.Errorf("staff %s: %d %s", path, p.status, text(p.doc.Find("main")))
				}
			}
		})

		t.Run("search", func(t *testing.T) {
			for _, tc := range []struct {
				name, query string
				status      int
				want        []string // references, newest first
				problem     string
			}{
				{"all", "", 200, []string{w.cancelled.Reference, w.noShow.Reference, w.refused.Reference, w.reserved.Reference}, ""},
				{"student name", "q=ola+hansen", 200, []string{w.reserved.Reference}, ""},
				{"reference", "q=" + w.refused.Reference, 200, []string{w.refused.Reference}, ""},
				{"provider reference", "q=" + url.QueryEscape(w.reserved.ProviderReference), 200, []string{w.reserved.Reference}, ""},
				{"company", "q=fjord", 200, []string{w.noShow.Reference, w.refused.Reference}, ""},
				{"enroller e-mail", "q=kari%40acme", 200, []string{w.cancelled.Reference, w.reserved.Reference}, ""},
				{"status", "status=REJECTED", 200, []string{w.refused.Reference}, ""},
				{"provider", "provider=" + itoa(e.acme.ID) + "&status=NO_SHOW", 200, []string{w.noShow.Reference}, ""},
				{"other provider", "provider=" + itoa(e.nord.ID), 200, nil, ""},
				{"course", "course=" + itoa(e.bst.ID) + "&q=liv", 200, []string{w.cancelled.Reference}, ""},
				{"made today", "from=" + day(0) + "&to=" + day(0), 200, []string{w.cancelled.Reference, w.noShow.Reference, w.refused.Reference, w.reserved.Reference}, ""},
				{"made before yesterday", "to=" + day(-2), 200, nil, ""},
				{"bad date", "from=tomorrow", 400, nil, "not a date"},
				{"bad status", "status=LOST", 400, nil, "Status"},
				{"bad provider", "provider=x", 400, nil, "Provider"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					p := w.staff.get("/staff/bookings?" + tc.query)
					if p.status != tc.status {
						t.Fatalf("status %d, want %d: %s", p.status, tc.status, text(p.doc.Find(".problem")))
					}
					var got []string
					p.doc.Find("tr[data-ref]").Each(func(_ int, s *goquery.Selection) { got = append(got, s.AttrOr("data-ref", "")) })
					if strings.Join(got, " ") != strings.Join(tc.want, " ") {
						t.Errorf("found %v, want %v", got, tc.want)
					}
					if !strings.Contains(text(p.doc.Find(".problem")), tc.problem) {
						t.Errorf("problem %q, want %q", text(p.doc.Find(".problem")), tc.problem)
					}
					if tc.status == 400 && p.doc.Find(`#q`).Length() != 1 {
						t.Error("the form is not shown again")
					}
				})
			}
		})

		t.Run("booking history", func(t *testing.T) {
			for _, tc := range []struct {
				name  string
				b     booking.Booking
				state string
				want  []string // history lines, in order
			}{
				{"reserved, with a certificate", w.reserved, "Booked", []string{"Booking made by Kari Nordmann (Acme Industri AS) for Ola Hansen",
					"Reserve call to Acme Safety AS reserved", "Reserved by the provider PENDING → RESERVED",
					"Notification booking_confirmed to kari@acme.example: Booking confirmed: Basic Safety Training",
					"Notification booking_confirmed to ola@example.com", "Document uploaded by the provider certificate.pdf"}},
				{"refused", w.refused, "Refused by the provider", []string{"Booking made", "Reserve call to Acme Safety AS refused",
					"Refused by the provider PENDING → REJECTED; message: " + refuseMessage}},
				{"no-show", w.noShow, "Did not attend", []string{"Booking made", "Reserve call", "Reserved by the provider",
					"Notification booking_confirmed", "Notification booking_confirmed", "Status set by the provider: Did not attend RESERVED → NO_SHOW"}},
				{"cancelled", w.cancelled, "Cancelled", []string{"Booking made", "Reserve call", "Reserved by the provider",
					"Notification booking_confirmed", "Notification booking_confirmed",
					"Cancel call to Acme Safety AS cancelled", "Cancelled RESERVED → CANCELLED",
					"Notification booking_cancelled to kari@acme.example: Booking cancelled: Basic Safety Training, " + day(60) + " (not sent yet)",
					"Notification booking_cancelled to liv@example.com"}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					p := w.staff.get("/staff/bookings/" + tc.b.Reference)
					if p.status != http.StatusOK {
						t.Fatalf("status %d: %s", p.status, text(p.doc.Find("main")))
					}
					if got := text(p.doc.Find("#state")); got != tc.state {
						t.Errorf("state %q, want %q", got, tc.state)
					}
					var lines []string
					p.doc.Find(".history li").Each(func(_ int, s *goquery.Selection) {
						s.Find("time").Remove()
						lines = append(lines, text(s))
					})
					if len(lines) != len(tc.want) {
						t.Fatalf("history has %d lines, want %d:\n%s", len(lines), len(tc.want), strings.Join(lines, "\n"))
					}
					for i, want := range tc.want {
						if !strings.Contains(lines[i], want) {
							t.Errorf("history line %d is %q, want %q", i+1, lines[i], want)
						}
					}
				})
			}
			p := w.staff.get("/staff/bookings/" + w.reserved.Reference)
			doc, ok := p.doc.Find(`.history a[href*="/documents/"]`).Attr("href")
			if !ok {
				t.Fatal("the history does not link to the certificate")
			}
			if d := w.staff.get(doc); d.status != http.StatusOK || d.body != "%PDF-1.4 certificate" {
				t.Errorf("the certificate from the history: %d %q", d.status, d.body)
			}
			if p := w.staff.get("/staff/bookings/nonesuch"); p.status != http.StatusNotFound {
				t.Errorf("unknown booking: %d", p.status)
			}
		})

		t.Run("journal", func(t *testing.T) {
			for _, tc := range []struct {
				name, query string
				status      int
				want        int
			}{
				{"all", "", 200, 6},
				{"provider", "provider=" + itoa(e.acme.ID), 200, 5},
				{"other provider", "provider=" + itoa(e.nord.ID), 200, 1},
				{"kind", "kind=cancel", 200, 1},
				{"outcome", "outcome=answered&kind=reserve", 200, 4},
				{"failed", "outcome=failed", 200, 1},
				{"failed of a provider", "outcome=failed&provider=" + itoa(e.acme.ID), 200, 0},
				{"booking", "booking=" + w.cancelled.Reference, 200, 2},
				{"bad outcome", "outcome=maybe", 400, 0},
			} {
				t.Run(tc.name, func(t *testing.T) {
					p := w.staff.get("/staff/calls?" + tc.query)
					if p.status != tc.status {
						t.Fatalf("status %d, want %d", p.status, tc.status)
					}
					if n := p.doc.Find("tr[data-call]").Length(); n != tc.want {
						t.Errorf("%d calls, want %d", n, tc.want)
					}
				})
			}
			p := w.staff.get("/staff/calls?kind=reserve&booking=" + w.reserved.Reference)
			link, ok := p.doc.Find("tr[data-call] a").First().Attr("href")
			if !ok {
				t.Fatal("no link to the call")
			}
			call := w.staff.get(link)
			request, answer := call.doc.Find("#request").Text(), call.doc.Find("#answer").Text()
			for _, want := range []string{"externalCourseClassId=OPEN", "trainingportalBookingReference=" + w.reserved.Reference,
				"studentFirstName=REDACTED", "company=Acme Industri AS"} {
				if !strings.Contains(request, want) {
					t.Errorf("request lacks %q:\n%s", want, request)
				}
			}
			if strings.Contains(request, "Ola") || strings.Contains(call.body, "ola@example.com") {
				t.Errorf("the journal shows personal data:\n%s", request)
			}
			if !strings.Contains(answer, `"successful": true`) || !strings.Contains(answer, w.reserved.ProviderReference) {
				t.Errorf("answer %q", answer)
			}
			if p := w.staff.get("/staff/calls/99999"); p.status != http.StatusNotFound {
				t.Errorf("unknown call: %d", p.status)
			}
		})

		t.Run("notifications", func(t *testing.T) {
			// The outbox lists by recipient, kind and whether sent, and the old
			// notifications address sends there with the same filters.
			for _, tc := range []struct {
				query string
				want  int
			}{{"", 8}, {"recipient=ACME", 3}, {"recipient=nobody", 0}, {"kind=booking_cancelled&unsent=1", 2}, {"kind=other", 0}} {
				p := w.staff.get("/staff/outbox?" + tc.query)
				rows := p.doc.Find("table.outbox tbody tr")
				if n := rows.Length(); p.status != 200 || n != tc.want {
					t.Errorf("%q: status %d, %d messages, want %d", tc.query, p.status, n, tc.want)
				}
				rows.Each(func(_ int, r *goquery.Selection) {
					msg, _ := r.Find(`td[data-label="Subject"] a`).Attr("href")
					ref, _ := r.Find(`td[data-label="Booking"] a`).Attr("href")
					if !strings.HasPrefix(msg, "/staff/outbox/") || len(ref) <= len("/staff/bookings/") || !strings.HasPrefix(ref, "/staff/bookings/") ||
						text(r.Find(`td[data-label="Status"]`)) != "Not sent" || text(r.Find(`td[data-label="Kind"]`)) == "" {
						t.Errorf("%q: row %q lacks its message link %q, booking link %q, kind or status", tc.query, text(r), msg, ref)
					}
				})
				for _, who := range []*client{w.staff, anonymous} {
					old := who.get("/staff/notifications?" + tc.query)
					want := "/staff/outbox"
					if tc.query != "" {
						want += "?" + tc.query
					}
					if old.status != http.StatusMovedPermanently || old.header.Get("Location") != want {
						t.Errorf("/staff/notifications?%s: %d to %q, want 301 to %q", tc.query, old.status, old.header.Get("Location"), want)
					}
				}
			}
			if p := w.staff.get("/staff/outbox?before=x"); p.status != http.StatusBadRequest || p.doc.Find(`[role="alert"]`).Length() != 1 {
				t.Errorf("a bad page: status %d, want 400 with the problem shown", p.status)
			}
			// The booking's history links each of its mails to the message.
			h := w.staff.get("/staff/bookings/" + w.reserved.Reference)
			links := h.doc.Find(`ol.history a[href^="/staff/outbox/"]`)
			if links.Length() == 0 {
				t.Fatalf("the booking's history links no message:\n%s", text(h.doc.Find("ol.history")))
			}
			msg := w.staff.get(links.First().AttrOr("href", ""))
			if msg.status != http.StatusOK || !strings.Contains(msg.doc.Find("pre.mail").Text(), w.reserved.Reference) {
				t.Errorf("the history's message link: status %d, body lacks %s", msg.status, w.reserved.Reference)
			}
		})

		t.Run("dashboard", func(t *testing.T) {
			p := w.staff.get("/staff")
			counts := map[string]string{}
			p.doc.Find("tr[data-state]").Each(func(_ int, s *goquery.Selection) {
				counts[s.AttrOr("data-state", "")] = text(s.Find("td.num"))
			})
			want := map[string]string{"RESERVED": "1", "REJECTED": "1", "NO_SHOW": "1", "CANCELLED": "1"}
			if len(counts) != len(want) {
				t.Errorf("bookings by outcome %v, want %v", counts, want)
			}
			for st, n := range want {
				if counts[st] != n {
					t.Errorf("%s: %q bookings, want %s", st, counts[st], n)
				}
			}
			row := p.doc.Find(`tr[data-provider="Acme Safety AS"] td.num`)
			if row.Length() != 5 || text(row.Eq(0)) != "5" || text(row.Eq(1)) != "0" {
				t.Errorf("Acme's answer times: %q", text(row))
			}
			nord := p.doc.Find(`tr[data-provider="Nord Kurs"] td.num`)
			if text(nord.Eq(0)) != "1" || text(nord.Eq(1)) != "1" || text(nord.Eq(4)) != "10.0 s" {
				t.Errorf("Nord's answer times: %q", text(nord))
			}
			if f := text(p.doc.Find(".failures")); !strings.Contains(f, "Nord Kurs") || !strings.Contains(f, "no answer within 10s") {
				t.Errorf("failed calls: %q", f)
			}
			if p.doc.Find(`.sections a[href="/staff/notifications"]`).Length() != 0 {
				t.Error("the dashboard still links to the notifications page, now the outbox")
			}
			for _, s := range []string{"/staff/bookings", "/staff/calls", "/staff/outbox"} {
				if p.doc.Find(`.sections a[href="`+s+`"]`).Length() != 1 {
					t.Errorf("the dashboard does not link to %s", s)
				}
			}
		})
	})
}
