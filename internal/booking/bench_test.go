package booking_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/store/storetest"
)

// BenchmarkBook measures bookings per second through booking.Service, with the real
// HTTP client, the call journal and an instant provider, and the latency the portal
// adds to the provider's own time: Book's duration minus the time spent in the
// provider's handler.
func BenchmarkBook(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			if dialect == "postgres" && os.Getenv(storetest.EnvPostgres) == "" {
				b.Skip("set " + storetest.EnvPostgres + " to benchmark PostgreSQL")
			}
			benchmarkBook(b, dialect)
		})
	}
}

func benchmarkBook(b *testing.B, dialect string) {
	e := newEnv(b, dialect, 5*time.Second)
	fp := newFakeProvider(b)
	var handlerTime sync.Map // booking reference -> time.Duration spent in the handler
	var n atomic.Int64
	fp.onReserve(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"successful":true,"bookingReference":"P-%d"}`, n.Add(1))
		handlerTime.Store(r.URL.Query().Get("trainingportalBookingReference"), time.Since(start))
	})
	p, co := e.addProvider(b, "acme", fp)

	// Enough seats for every booking of this run, in classes of at most 100000.
	const perClass = 100000
	var classes []catalog.Class
	for i := 0; i*perClass < b.N; i++ {
		classes = append(classes, e.addClass(b, p, co, fmt.Sprintf("C%d", i), perClass))
	}

	var (
		mu    sync.Mutex
		added []time.Duration
		next  atomic.Int64
		fails atomic.Int64
	)
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			i := next.Add(1) - 1
			t0 := time.Now()
			bk, err := e.svc.Book(ctx, request(classes[i/perClass].ID, "Bench"))
			total := time.Since(t0)
			if err != nil {
				fails.Add(1)
				continue
			}
			h, ok := handlerTime.LoadAndDelete(bk.Reference)
			if !ok {
				fails.Add(1)
				continue
			}
			mine = append(mine, total-h.(time.Duration))
		}
		mu.Lock()
		added = append(added, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if f := fails.Load(); f > 0 {
		b.Fatalf("%d of %d bookings failed", f, b.N)
	}
	slices.Sort(added)
	pct := func(p float64) float64 {
		return float64(added[int(p*float64(len(added)-1))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50-added-µs")
	b.ReportMetric(pct(0.99), "p99-added-µs")
}
