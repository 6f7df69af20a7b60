package portal_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/mail"
	"github.com/tportal/tportal/internal/providercall"
	"github.com/tportal/tportal/internal/server"
	"github.com/tportal/tportal/internal/store/storetest"
)

// bookClients is the goroutines per core of BenchmarkBookThroughAPI: 8 on this
// 2-core machine makes the 16 concurrent clients of issue 11's table.
const bookClients = 8

// BenchmarkBookThroughAPI books seats through the whole stack — HTTP, token check,
// booking engine, database, the reserve call to a provider that answers at once, the
// answer recorded — with 16 concurrent clients (on 2 cores), and reports bookings per
// second and the latency the portal adds on top of the provider's own time (p50 and
// p99), on each database. Its first sub-benchmark, "ceiling", is a bare net/http
// handler that parses the same booking JSON, makes the same reserve call with the
// same client to the same kind of provider and writes an answer of the same shape,
// with no database: each database's "ceiling-%" is its rate as a share of that one,
// measured in the same run (the machine is shared and noisy).
//
//	TPORTAL_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable \
//	  go test -run '^$' -bench BookThroughAPI -benchtime 3s ./internal/api/portal/
func BenchmarkBookThroughAPI(b *testing.B) {
	var ceiling float64
	b.Run("ceiling", func(b *testing.B) {
		ceiling = benchBookCeiling(b)
	})
	for _, dialect := range storetest.Dialects() {
		b.Run(dialect, func(b *testing.B) {
			e := newEnv(b, dialect)
			var providerNanos sync.Map // the portal's booking reference -> time spent in the provider's handler
			var n atomic.Int64
			provider := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				start := time.Now()
				fmt.Fprintf(w, `{"successful":true,"bookingReference":"P-%d","errorMessage":""}`, n.Add(1))
				// The reserve call names the portal's reference trainingportalBookingReference (SPEC §3).
				providerNanos.Store(r.URL.Query().Get("trainingportalBookingReference"), time.Since(start))
			}))
			// Every TCP connection the portal opens to the provider: one per booking
			// means the client does not keep enough idle connections.
			var conns atomic.Int64
			provider.Config.ConnState = func(_ net.Conn, st http.ConnState) {
				if st == http.StateNew {
					conns.Add(1)
				}
			}
			provider.Start()
			defer provider.Close()
			// As `tportal serve` wires it (cmd/tportal openPortal): every call is
			// written to the journal and counted, with the default timeout, as a
			// loaded machine can take longer than the tests' 300 ms; every reserved
			// booking's confirmation mails, with their calendar invitation, are
			// composed and written to the outbox (serve without --smtp-url, as
			// cmd/loadbench runs it).
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			e.bookings.Caller = providercall.BookingCaller{Client: providercall.New(providercall.Options{
				AllowPrivateURLs: true, Timeout: providercall.DefaultTimeout, Journal: e.db,
				Metrics: providercall.NewMetrics(server.NewRegistry()), Logger: logger,
			})}
			e.bookings.Logger, e.bookings.CallTimeout = logger, providercall.DefaultTimeout
			e.bookings.Mail = &mail.Composer{}
			reserve := provider.URL + "/reserve"
			if _, err := e.cat.ChangeProvider(context.Background(), "acme", catalog.ProviderChange{ReserveURL: &reserve}); err != nil {
				b.Fatal(err)
			}
			class := e.addClass(classSpec{ext: "BENCH", seats: 100000})
			body := bookBody(class.ID)

			var mu sync.Mutex
			var added []time.Duration
			b.SetParallelism(bookClients)
			b.ReportAllocs()
			cpu, conns0 := storetest.ProcessCPU(), conns.Load()
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
			rate := float64(b.N) / b.Elapsed().Seconds()
			b.ReportMetric(rate, "bookings/s")
			if ceiling > 0 {
				b.ReportMetric(100*rate/ceiling, "ceiling-%")
			}
			b.ReportMetric(float64((storetest.ProcessCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
			b.ReportMetric(float64(conns.Load()-conns0)/float64(b.N), "provider-conns/op")
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

// benchBookCeiling runs the ceiling of BenchmarkBookThroughAPI and returns its rate.
func benchBookCeiling(b *testing.B) float64 {
	var n atomic.Int64
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"successful":true,"bookingReference":"P-%d","errorMessage":""}`, n.Add(1))
	}))
	defer provider.Close()
	client := providercall.New(providercall.Options{AllowPrivateURLs: true, Timeout: providercall.DefaultTimeout})
	target := providercall.Target{ProviderID: 1, ProviderName: "Acme Safety AS", ReserveURL: provider.URL + "/reserve"}
	type person struct {
		FirstName string `json:"firstName"`
		LastName  string `json:"lastName"`
		Email     string `json:"email"`
		Phone     string `json:"phone"`
		BirthDate string `json:"birthDate,omitempty"`
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			ClassID             int64  `json:"classId"`
			Student             person `json:"student"`
			Enroller            person `json:"enroller"`
			Company             string `json:"company"`
			CommentOnEnrollment string `json:"commentOnEnrollment"`
			PurchaseOrderNumber string `json:"purchaseOrderNumber"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ref := booking.NewReference()
		p := func(p person) providercall.Person {
			return providercall.Person{FirstName: p.FirstName, LastName: p.LastName, Email: p.Email, Phone: p.Phone}
		}
		ans, err := client.Reserve(r.Context(), target, providercall.ReserveRequest{
			ExternalCourseClassID: "BENCH", ExternalCourseID: "BST", BookingReference: ref,
			Student: p(in.Student), StudentBirthDate: in.Student.BirthDate, Enroller: p(in.Enroller), Company: in.Company,
		})
		if err != nil || !ans.Successful {
			http.Error(w, "reserve failed", http.StatusBadGateway)
			return
		}
		now := time.Now().UTC().Format(time.RFC3339)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(struct {
			BookingReference         string   `json:"bookingReference"`
			Status                   string   `json:"status"`
			ErrorMessage             string   `json:"errorMessage"`
			ClassID                  int64    `json:"classId"`
			ExternalCourseClassID    string   `json:"externalCourseClassId"`
			Student                  person   `json:"student"`
			Enroller                 person   `json:"enroller"`
			Company                  string   `json:"company"`
			CommentOnEnrollment      string   `json:"commentOnEnrollment"`
			PurchaseOrderNumber      string   `json:"purchaseOrderNumber"`
			EnrollmentStatus         string   `json:"enrollmentStatus"`
			ProviderBookingReference string   `json:"providerBookingReference"`
			CompletionDate           string   `json:"completionDate"`
			Message                  string   `json:"message"`
			CreatedAt                string   `json:"createdAt"`
			UpdatedAt                string   `json:"updatedAt"`
			Documents                []string `json:"documents"`
		}{ref, "RESERVED", "", in.ClassID, "BENCH", in.Student, in.Enroller, in.Company, in.CommentOnEnrollment,
			in.PurchaseOrderNumber, "NEW", ans.ProviderBookingReference, "", "", now, now, []string{}})
	}))
	defer srv.Close()
	body := bookBody(1)
	b.SetParallelism(bookClients)
	b.ReportAllocs()
	cpu := storetest.ProcessCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := &http.Client{}
		for pb.Next() {
			res, err := c.Post(srv.URL+"/api/v1/bookings", "application/json", strings.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusCreated {
				b.Errorf("ceiling: status %d", res.StatusCode)
				return
			}
		}
	})
	b.StopTimer()
	rate := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "bookings/s")
	b.ReportMetric(float64((storetest.ProcessCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
	return rate
}
