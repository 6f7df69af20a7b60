package portal_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/store/storetest"
)

// BenchmarkBookThroughAPI books seats through the whole stack — HTTP, token check,
// booking engine, database, the reserve call to a provider that answers at once, the
// answer recorded — and reports bookings per second and the latency the portal adds
// on top of the provider's own time (p50 and p99), on each database.
//
//	TPORTAL_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable \
//	  go test -run '^$' -bench BookThroughAPI -benchtime 2000x ./internal/api/portal/
func BenchmarkBookThroughAPI(b *testing.B) {
	for _, dialect := range storetest.Dialects() {
		b.Run(dialect, func(b *testing.B) {
			e := newEnv(b, dialect)
			var providerNanos sync.Map // the portal's booking reference -> time spent in the provider's handler
			var n atomic.Int64
			provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				start := time.Now()
				fmt.Fprintf(w, `{"successful":true,"bookingReference":"P-%d","errorMessage":""}`, n.Add(1))
				// The reserve call names the portal's reference trainingportalBookingReference (SPEC §3).
				providerNanos.Store(r.URL.Query().Get("trainingportalBookingReference"), time.Since(start))
			}))
			defer provider.Close()
			reserve := provider.URL + "/reserve"
			if _, err := e.cat.ChangeProvider(context.Background(), "acme", catalog.ProviderChange{ReserveURL: &reserve}); err != nil {
				b.Fatal(err)
			}
			class := e.addClass(classSpec{ext: "BENCH", seats: 100000})
			body := bookBody(class.ID)

			var mu sync.Mutex
			var added []time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				c := &http.Client{}
				var mine []time.Duration
				for pb.Next() {
					req, _ := http.NewRequest("POST", e.url+"/api/v1/bookings", strings.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+e.token)
					req.Header.Set("Content-Type", "application/json")
					start := time.Now()
					res, err := c.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					out, _ := io.ReadAll(res.Body)
					res.Body.Close()
					total := time.Since(start)
					if res.StatusCode != http.StatusCreated {
						b.Errorf("status %d: %s", res.StatusCode, out)
						return
					}
					ref := extractRef(out)
					if d, ok := providerNanos.Load(ref); ok {
						mine = append(mine, total-d.(time.Duration))
					}
				}
				mu.Lock()
				added = append(added, mine...)
				mu.Unlock()
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "bookings/s")
			if len(added) == 0 {
				b.Fatal("no booking answer matched a reserve call: the reserve call's reference parameter changed?")
			}
			{
				slices.Sort(added)
				b.ReportMetric(float64(added[len(added)/2].Microseconds()), "p50-added-µs")
				b.ReportMetric(float64(added[len(added)*99/100].Microseconds()), "p99-added-µs")
			}
		})
	}
}

// extractRef returns the portal's booking reference from a booking answer.
func extractRef(body []byte) string {
	var answer struct {
		BookingReference string `json:"bookingReference"`
	}
	_ = json.Unmarshal(body, &answer)
	return answer.BookingReference
}
