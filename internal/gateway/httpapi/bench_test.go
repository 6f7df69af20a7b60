package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/gateway"
	"github.com/tportal/tportal/internal/gateway/gwstore/gwstoretest"
	"github.com/tportal/tportal/internal/gateway/httpapi"
)

// BenchmarkReserve sends reserve calls, as the portal does, to the gateway's reserve
// URL — HTTP, parameters, the reference booking system, a seat held in the database —
// from parallel keep-alive clients, each call a new booking on one class with plenty
// of seats. It reports reserve calls per second and the latency of a call (p50, p99),
// on each database.
//
//	TPORTAL_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable \
//	  go test -run '^$' -bench Reserve -benchmem -benchtime 3s ./internal/gateway/httpapi/
func BenchmarkReserve(b *testing.B) {
	for _, dialect := range gwstoretest.Dialects() {
		b.Run(dialect, func(b *testing.B) {
			sys := gateway.NewReference(gwstoretest.Open(b, dialect))
			sys.Now = func() time.Time { return now }
			ctx := context.Background()
			if _, err := sys.AddCourse(ctx, "BST", "Basic Safety Training"); err != nil {
				b.Fatal(err)
			}
			_, err := sys.AddClass(ctx, "BST", "BENCH", gwstoretest.ClassFields(10_000_000))
			if err != nil {
				b.Fatal(err)
			}
			base := serve(b, sys, httpapi.Options{Logger: discardLogger})
			var n atomic.Int64
			var mu sync.Mutex
			var latencies []time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				c := &http.Client{}
				var mine []time.Duration
				for pb.Next() {
					u := fmt.Sprintf("%s/reserve?externalCourseClassId=BENCH&externalCourseId=BST&trainingportalBookingReference=%s-%d"+
						"&studentFirstName=Kari&studentLastName=Nordmann&studentEmailAddress=kari%%40example.no&enrollerEmailAddress=ola%%40acme.example&company=Acme+AS",
						base, dialect, n.Add(1))
					start := time.Now()
					res, err := c.Get(u)
					if err != nil {
						b.Error(err)
						return
					}
					body, _ := io.ReadAll(res.Body)
					res.Body.Close()
					mine = append(mine, time.Since(start))
					if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"successful":true`) {
						b.Errorf("status %d: %s", res.StatusCode, body)
						return
					}
				}
				mu.Lock()
				latencies = append(latencies, mine...)
				mu.Unlock()
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reserves/s")
			if len(latencies) > 0 {
				slices.Sort(latencies)
				b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds()), "p99-µs")
			}
		})
	}
}
