package store_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/providercall"
	"github.com/tportal/tportal/internal/store"
	"github.com/tportal/tportal/internal/store/storetest"
)

// BenchmarkBookingPath runs the store's part of a booking through the API as the
// booking engine does, from 16 goroutines: the token's read, the class's
// (ClassToBook), the seat and the PENDING booking, the reserve answer. Beside this
// process's CPU per booking it reports, on PostgreSQL, the CPU of the database's
// backends (/proc, as the server runs on this machine), which shares the cores; on
// SQLite, the read system calls per booking (Linux), the page reads of connections
// whose page cache another connection's commit made stale, and the writes that
// shared each group commit: fewer writers per commit cost more CPU per booking
// (each commit writes the hot pages again).
//
//	TPORTAL_TEST_POSTGRES=… go test -run '^$' -bench BookingPath -count 3 ./internal/store/
//	go test -run '^$' -bench 'BookingPath/sqlite' -count 3 ./internal/store/
func BenchmarkBookingPath(b *testing.B) {
	for _, dialect := range []string{"postgres", "sqlite"} {
		b.Run(dialect, func(b *testing.B) {
			if !slices.Contains(storetest.Dialects(), dialect) {
				b.Skip("PostgreSQL: set TPORTAL_TEST_POSTGRES")
			}
			benchmarkBookingPath(b, storetest.Open(b, dialect))
		})
	}
}

func benchmarkBookingPath(b *testing.B, db *store.DB) {
	ctx := context.Background()
	postgres := db.Dialect() == "postgres"
	_, _, cl := seed(b, db)
	if _, err := db.SQL().ExecContext(ctx, `UPDATE classes SET available_seats = 10000000 WHERE id = $1`, cl.ID); err != nil {
		b.Fatal(err)
	}
	if _, err := db.CreateToken(ctx, "bench", "hash-bench", nil); err != nil {
		b.Fatal(err)
	}
	params := strings.Repeat("studentFirstName=[redacted]&", 12)
	var n atomic.Int64
	b.SetParallelism(8) // 16 goroutines on 2 cores
	var pgCPU time.Duration
	if postgres {
		pgCPU = backendsCPU(b, db)
	}
	cpu := storetest.ProcessCPU()
	reads, readsKnown := storetest.ReadSyscalls()
	groups, writers := db.GroupCommits()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := db.TokenByHash(ctx, "hash-bench"); err != nil {
				b.Error(err)
				return
			}
			if _, _, _, err := db.ClassToBook(ctx, cl.ID); err != nil {
				b.Error(err)
				return
			}
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
			calls := []providercall.Call{reserveCall(now, ref, params)}
			if updated, err := db.RecordReserveAnswer(ctx, calls, before, &after); err != nil || !updated {
				b.Errorf("RecordReserveAnswer = %v, %v", updated, err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64((storetest.ProcessCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
	if postgres {
		b.ReportMetric(float64((backendsCPU(b, db)-pgCPU).Microseconds())/float64(b.N), "pg-cpu-µs/op")
	} else {
		if now, ok := storetest.ReadSyscalls(); ok && readsKnown {
			b.ReportMetric(float64(now-reads)/float64(b.N), "read-syscalls/op")
		}
		if g, w := db.GroupCommits(); g > groups {
			b.ReportMetric(float64(w-writers)/float64(g-groups), "writers/commit")
		}
	}
}

// backendsCPU is the CPU time used so far by the backends of db's database, user
// and system, from /proc: only backends alive now count, so the pool must keep its
// connections across a measure (it keeps up to 20 idle).
func backendsCPU(b *testing.B, db *store.DB) time.Duration {
	rows, err := db.SQL().Query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var total time.Duration
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			b.Fatal(err)
		}
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue // gone
		}
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(utime+stime) * 10 * time.Millisecond // USER_HZ = 100
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return total
}
