package store_test

import (
	"context"
	"database/sql"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/store"
	"github.com/tportal/tportal/internal/store/storetest"
)

// BenchmarkModifyClassSeats changes the seats of one of 50 classes of a course per
// op, from one goroutine, as updateClass does: the store's own cost of a class
// write, without the HTTP stack and with less of the shared machine's noise.
//
//	TPORTAL_TEST_POSTGRES=… go test -run '^$' -bench ModifyClassSeats ./internal/store/
func BenchmarkModifyClassSeats(b *testing.B) {
	for _, dialect := range storetest.Dialects() {
		b.Run(dialect, func(b *testing.B) {
			ctx := context.Background()
			db := storetest.Open(b, dialect)
			co := benchClasses(b, db)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if _, err := db.ModifyClass(ctx, co.ID, "S"+strconv.Itoa(i%classes), func(c *catalog.Class) error {
					c.AvailableSeats = i % 40
					c.UpdatedAt = time.Now()
					return nil
				}, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// classes is how many classes the class benchmarks write, in turn, as the load
// benchmark's updateClass does.
const classes = 50

// benchClasses seeds a course with classes S0 to S49 and returns it.
func benchClasses(b *testing.B, db *store.DB) catalog.Course {
	b.Helper()
	_, co, _ := seed(b, db)
	for i := range classes {
		cl := newClass(b, co, "S"+strconv.Itoa(i))
		if err := db.CreateClass(context.Background(), &cl); err != nil {
			b.Fatal(err)
		}
	}
	return co
}

// BenchmarkConcurrentClassWrites runs class updates (50 classes in turn, as the load
// benchmark's updateClass) and class inserts from 16 goroutines at once: on
// PostgreSQL they share batches (pgbatch.go).
func BenchmarkConcurrentClassWrites(b *testing.B) {
	for _, dialect := range storetest.Dialects() {
		ctx := context.Background()
		url := storetest.URL(b, dialect)
		db, err := store.Open(ctx, url)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		raw, err := sql.Open(map[string]string{"sqlite": "sqlite", "postgres": "pgx"}[dialect], url)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { raw.Close() })
		co := benchClasses(b, db)
		var seq atomic.Int64
		b.Run(dialect+"/update", func(b *testing.B) {
			b.SetParallelism(8)
			b.ReportAllocs()
			defer cpuPerOp(b, raw, dialect)()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := int(seq.Add(1))
					if _, err := db.ModifyClass(ctx, co.ID, "S"+strconv.Itoa(i%classes), func(c *catalog.Class) error {
						c.AvailableSeats = i % 40
						c.UpdatedAt = time.Now()
						return nil
					}, nil); err != nil {
						b.Error(err)
						return
					}
				}
			})
			if n, w := db.PGBatchesSent(); n > 0 { // STATS
				b.ReportMetric(float64(w)/float64(n), "writes/batch") // STATS
			} // STATS
		})
		b.Run(dialect+"/insert", func(b *testing.B) {
			b.SetParallelism(8)
			b.ReportAllocs()
			defer cpuPerOp(b, raw, dialect)()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					cl := newClass(b, co, "N"+strconv.FormatInt(seq.Add(1), 10))
					if err := db.CreateClass(ctx, &cl); err != nil {
						b.Error(err)
						return
					}
				}
			})
			if n, w := db.PGBatchesSent(); n > 0 { // STATS
				b.ReportMetric(float64(w)/float64(n), "writes/batch") // STATS
			} // STATS
		})
	}
}

// cpuPerOp starts measuring this process's CPU and, on PostgreSQL, that of the
// server processes serving the test's database; the function it returns reports
// both per operation (cpu-µs/op, pg-cpu-µs/op).
func cpuPerOp(b *testing.B, raw *sql.DB, dialect string) func() {
	pg := func() (ticks int64) {
		if dialect != "postgres" {
			return 0
		}
		rows, err := raw.Query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
		if err != nil {
			b.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var pid int
			rows.Scan(&pid)
			stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
			if err != nil {
				continue
			}
			f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
			u, _ := strconv.ParseInt(f[11], 10, 64)
			s, _ := strconv.ParseInt(f[12], 10, 64)
			ticks += u + s
		}
		return ticks
	}
	ownBefore, pgBefore := storetest.ProcessCPU(), pg()
	return func() {
		b.ReportMetric(float64((storetest.ProcessCPU()-ownBefore).Microseconds())/float64(b.N), "cpu-µs/op")
		if dialect == "postgres" {
			b.ReportMetric(float64((pg()-pgBefore)*10000)/float64(b.N), "pg-cpu-µs/op")
		}
	}
}
