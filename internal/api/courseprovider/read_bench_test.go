package courseprovider_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/store/storetest"
)

// BenchmarkReads measures the catalogue's read methods on each database beside a
// ceiling in the same run: a bare net/http handler that parses the same form and
// encodes the same answer body from Go structs, with no authentication and no
// storage. The share of the ceiling is tportal's req/s over the ceiling's.
//
//	TPORTAL_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable \
//	  go test -run '^$' -bench Reads -benchtime 2s ./internal/api/courseprovider/
//
// -args -read-clients 8 runs 8 clients per GOMAXPROCS instead of one.
func BenchmarkReads(b *testing.B) {
	sizes := []int{1, 20, 200, 2000}
	portals := map[string]*portal{}
	for _, dialect := range storetest.Dialects() {
		portals[dialect] = readPortal(b, dialect, sizes)
	}
	// Each path runs on the ceiling and then on each database, one after the other,
	// so that the ratios compare runs made under the same load.
	run := func(path string, ceiling func() string, tportal string) {
		b.Run(path, func(b *testing.B) {
			b.Run("ceiling", func(b *testing.B) { benchRead(b, nil, ceilingCreds, ceiling(), "") })
			for _, dialect := range storetest.Dialects() {
				b.Run(dialect, func(b *testing.B) {
					var pg *sql.DB
					if dialect == "postgres" {
						pg = portals[dialect].db.SQL()
					}
					benchRead(b, pg, portals[dialect].acme, portals[dialect].base, tportal)
				})
			}
		})
	}
	run("getCourses", func() string {
		courses := make([]ceilingCourse, 0, len(sizes)+1)
		for _, ext := range append([]string{"BST"}, courseNames(sizes)...) {
			courses = append(courses, ceilingCourse{ID: 1, ExternalCourseID: ext, Name: ext + " course", Description: "about " + ext})
		}
		return ceilingServer(b, courses)
	}, "")
	for _, n := range sizes {
		run("getCourseClasses-"+strconv.Itoa(n), func() string {
			classes := make([]ceilingClass, n)
			for i := range classes {
				classes[i] = ceilingClassOf("R"+strconv.Itoa(i), "N"+strconv.Itoa(n))
			}
			return ceilingServer(b, classes)
		}, "/N"+strconv.Itoa(n)+"/courseClasses")
	}
}

// readClients is the number of parallel clients per GOMAXPROCS of BenchmarkReads
// (b.SetParallelism): 8 for the load benchmark's 16 clients on two cores, where
// concurrent reads share PostgreSQL statements (store/providerbatch.go).
var readClients = flag.Int("read-clients", 1, "BenchmarkReads: parallel clients per GOMAXPROCS")

var ceilingCreds = url.Values{"username": {"acme"}, "password": {"some-password-here"}}

func courseNames(sizes []int) []string {
	var out []string
	for _, n := range sizes {
		out = append(out, "N"+strconv.Itoa(n))
	}
	return out
}

// readPortal is a portal whose provider acme has, beside BST, a course Nn with n
// classes for each size.
func readPortal(b *testing.B, dialect string, sizes []int) *portal {
	p := newPortal(b, dialect)
	ctx := context.Background()
	acme, err := p.db.ProviderByUsername(ctx, "acme")
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range sizes {
		ext := "N" + strconv.Itoa(n)
		if _, err := p.catalog.AddCourse(ctx, "acme", catalog.Course{Name: ext + " course", ExternalID: ext, Description: "about " + ext}); err != nil {
			b.Fatal(err)
		}
		for i := range n {
			f := classFields("R" + strconv.Itoa(i))
			if _, err := p.catalog.AddClass(ctx, acme, ext, f); err != nil {
				b.Fatal(err)
			}
		}
	}
	return p
}

// classFields is classForm as catalog.ClassFields.
func classFields(externalID string) catalog.ClassFields {
	v := classForm(externalID)
	s := func(k string) *string { x := v.Get(k); return &x }
	return catalog.ClassFields{
		ExternalID: s("externalId"), Location: s("location"), AvailableSeats: s("availableSeats"),
		EnrollmentDeadline: s("enrollmentDeadline"), CancellationDeadline: s("cancellationDeadline"),
		StartDate: s("startDate"), StartTime: s("startTime"), EndDate: s("endDate"), EndTime: s("endTime"),
		AddressLine1: s("address.addressLine1"), City: s("address.city"), ZipCode: s("address.zipCode"),
		Country: s("address.country"), Currency: s("price.currency"), Amount: s("price.amount"),
	}
}

// ceilingCourse has the shape of the API's course JSON.
type ceilingCourse struct {
	ID               int64  `json:"id"`
	ExternalCourseID string `json:"externalCourseId"`
	Name             string `json:"name"`
	Description      string `json:"description"`
}

// ceilingClassOf is classForm's class as the ceiling encodes it.
func ceilingClassOf(externalID, course string) ceilingClass {
	v := classForm(externalID)
	c := ceilingClass{ExternalID: externalID, CourseExternalID: course, Location: v.Get("location"), AvailableSeats: 12,
		EnrollmentDeadline: v.Get("enrollmentDeadline"), CancellationDeadline: v.Get("cancellationDeadline"),
		StartDate: v.Get("startDate"), StartTime: v.Get("startTime"), EndDate: v.Get("endDate"), EndTime: v.Get("endTime"),
		TimeZone: "Europe/Oslo", SendScheduleInfoToParticipants: true}
	c.Address.AddressLine1, c.Address.City, c.Address.ZipCode, c.Address.Country = v.Get("address.addressLine1"), v.Get("address.city"), v.Get("address.zipCode"), v.Get("address.country")
	c.Price.Currency, c.Price.Amount = "NOK", json.Number(v.Get("price.amount"))
	return c
}

// ceilingServer serves body, encoded anew on every request after the form is parsed
// and the credentials read, and returns its URL.
func ceilingServer[T any](b *testing.B, body T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Form.Get("username") == "" || r.Form.Get("password") == "" {
			http.Error(w, "no credentials", 401)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_ = json.NewEncoder(w).Encode(body)
	}))
	b.Cleanup(srv.Close)
	return srv.URL
}

// benchRead posts acme's credentials to base+path from parallel keep-alive clients.
// Beside the rate, which depends on what else the machine runs, it reports the CPU
// per request of this process (server and clients, cpu-µs/op) and, when db is a
// PostgreSQL database, of its server processes (pg-cpu-µs/op).
func benchRead(b *testing.B, db *sql.DB, creds url.Values, base, path string) {
	b.ReportAllocs()
	pgBefore := pgBackendsCPU(b, db)
	cpuBefore := storetest.ProcessCPU()
	b.SetParallelism(*readClients)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		// A transport of its own: the default one keeps two idle connections per
		// host, and more clients would open new ones all the time.
		c := &http.Client{Transport: &http.Transport{}}
		defer c.CloseIdleConnections()
		for pb.Next() {
			postForm(b, c, base+path, creds)
		}
	})
	b.StopTimer()
	reportRate(b)
	b.ReportMetric(float64((storetest.ProcessCPU()-cpuBefore).Microseconds())/float64(b.N), "cpu-µs/op")
	if pgAfter := pgBackendsCPU(b, db); pgBefore != nil && pgAfter != nil {
		var spent time.Duration
		for pid, t := range pgAfter {
			spent += t - pgBefore[pid] // a backend started during the run had spent nothing
		}
		b.ReportMetric(float64(spent.Microseconds())/float64(b.N), "pg-cpu-µs/op")
	}
}

// pgBackendsCPU is the user and system CPU of each server process connected to db's
// database, read from /proc (the benchmark's PostgreSQL runs on the same machine),
// in clock ticks of 10 ms; nil when db is not PostgreSQL or /proc does not show them.
func pgBackendsCPU(b *testing.B, db *sql.DB) map[int]time.Duration {
	if db == nil {
		return nil
	}
	rows, err := db.Query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	out := map[int]time.Duration{}
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			b.Fatal(err)
		}
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return nil // a server on another machine, or a backend that just ended
		}
		// Fields after the command name (which may hold spaces): state is the first,
		// utime and stime the 12th and 13th.
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		out[pid] = time.Duration(utime+stime) * 10 * time.Millisecond
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return out
}

// BenchmarkMissesAfterWrite measures what 64 concurrent getCourseClasses calls cost
// right after a write to their course of 2000 classes, when none finds the answer in
// the cache: one op is the write and the 64 reads. B/op shows whether the readers
// share one build of the answer or each build their own.
//
//	go test -run '^$' -bench MissesAfterWrite -benchmem ./internal/api/courseprovider/
func BenchmarkMissesAfterWrite(b *testing.B) {
	const readers, classes = 64, 2000
	for _, dialect := range storetest.Dialects() {
		b.Run(dialect, func(b *testing.B) {
			p := readPortal(b, dialect, []int{classes})
			ctx := context.Background()
			acme, err := p.db.ProviderByUsername(ctx, "acme")
			if err != nil {
				b.Fatal(err)
			}
			ext, course := "R0", "N"+strconv.Itoa(classes)
			clients := make([]*http.Client, readers)
			for i := range clients {
				clients[i] = &http.Client{Transport: &http.Transport{}}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				seats := strconv.Itoa(10 + i%20)
				if _, err := p.catalog.UpdateClass(ctx, acme, course, catalog.ClassFields{ExternalID: &ext, AvailableSeats: &seats}); err != nil {
					b.Fatal(err)
				}
				var wg sync.WaitGroup
				for _, c := range clients {
					wg.Go(func() { postForm(b, c, p.base+"/"+course+"/courseClasses", p.acme) })
				}
				wg.Wait()
			}
		})
	}
}
