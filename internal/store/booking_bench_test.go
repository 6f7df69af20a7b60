package store_test

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/providercall"
	"github.com/tportal/tportal/internal/store/storetest"
)

// BenchmarkBookingWrites makes bookings as the booking engine writes them — the seat
// and the PENDING booking (CreateBooking), then the reserve answer with its journal
// entry, history event and two mails of a realistic size (RecordReserveAnswer) — from
// 16 goroutines, as the load benchmark's 16 clients: the store's own CPU per
// booking (cpu-µs/op, the whole process's), without HTTP, the reserve call or the
// mails' composing.
//
//	TPORTAL_TEST_POSTGRES=… go test -run '^$' -bench BookingWrites -count 3 ./internal/store/
func BenchmarkBookingWrites(b *testing.B) {
	for _, dialect := range storetest.Dialects() {
		b.Run(dialect, func(b *testing.B) {
			ctx := context.Background()
			db := storetest.Open(b, dialect)
			_, _, cl := seed(b, db)
			if _, err := db.SQL().ExecContext(ctx, `UPDATE classes SET available_seats = 10000000 WHERE id = $1`, cl.ID); err != nil {
				b.Fatal(err)
			}
			body := strings.Repeat("Booking confirmed. ", 60)       // ~1.1 KB, as mail.Composer's
			calendar := strings.Repeat("BEGIN:VEVENT DTSTART ", 50) // ~1 KB
			params := strings.Repeat("studentFirstName=[redacted]&", 12)
			var n atomic.Int64
			b.SetParallelism(8) // 16 goroutines on 2 cores
			b.ReportAllocs()
			cpu := storetest.ProcessCPU()
			groups, writers := db.GroupCommits()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					ref := "TP-" + strconv.FormatInt(n.Add(1), 10)
					now := time.Now().UTC()
					before := booking.Booking{Reference: ref, ClassID: cl.ID, State: booking.Pending, CreatedAt: now, UpdatedAt: now,
						Student:  booking.Person{FirstName: "Kari", LastName: "Nordmann", Email: "kari@acme.example"},
						Enroller: booking.Person{FirstName: "Ola", LastName: "Nordmann", Email: "ola@acme.example"}}
					if err := db.CreateBooking(ctx, &before, func(catalog.Class) error { return nil }); err != nil {
						b.Error(err)
						return
					}
					after := before
					after.State, after.ProviderReference, after.UpdatedAt = booking.Reserved, "P-"+ref, time.Now()
					after.Outbox = []booking.Notification{
						{BookingID: before.ID, Kind: "booking_confirmed", To: "ola@acme.example", Subject: "Booking confirmed", Body: body, CreatedAt: now},
						{BookingID: before.ID, Kind: "booking_confirmed", To: "kari@acme.example", Subject: "Booking confirmed", Body: body, Calendar: calendar, CreatedAt: now},
					}
					calls := []providercall.Call{reserveCall(now, ref, params)}
					if updated, err := db.RecordReserveAnswer(ctx, calls, before, &after); err != nil || !updated {
						b.Errorf("RecordReserveAnswer = %v, %v", updated, err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64((storetest.ProcessCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
			if g, w := db.GroupCommits(); g > groups {
				b.ReportMetric(float64(w-writers)/float64(g-groups), "writes/commit") // SQLite's group commit
			}
		})
	}
}

// reserveCall is the journal entry of a successful reserve call for booking ref, as
// the booking benchmarks record it.
func reserveCall(now time.Time, ref, params string) providercall.Call {
	return providercall.Call{At: now, ProviderID: 1, ProviderName: "Acme", Kind: providercall.KindReserve,
		URL: "https://acme.example/reserve", BookingReference: ref, HTTPStatus: 200, Latency: time.Millisecond,
		Outcome: providercall.OutcomeAnswered, Success: true, RequestMethod: "GET", RequestParams: params,
		AnswerContentType: "application/json", AnswerBody: `{"successful":true,"bookingReference":"P-` + ref + `","errorMessage":""}`}
}
