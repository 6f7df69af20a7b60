package gwjobs_test

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/gateway"
	"github.com/tportal/tportal/internal/gateway/gwjobs"
	"github.com/tportal/tportal/internal/gateway/gwstore/gwstoretest"
)

// BenchmarkReserveWithQueue measures what the job queue costs a reservation: each
// hold inserts a confirmation and a catalogue push in its own transaction.
func BenchmarkReserveWithQueue(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		for _, queued := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/queue=%v", dialect, queued), func(b *testing.B) {
				if dialect == "postgres" && os.Getenv(gwstoretest.EnvPostgres) == "" {
					b.Skip("set " + gwstoretest.EnvPostgres + " to measure PostgreSQL")
				}
				benchReserve(b, dialect, queued)
			})
		}
	}
}

func benchReserve(b *testing.B, dialect string, queued bool) {
	ctx := context.Background()
	db := gwstoretest.Open(b, dialect)
	if queued {
		q, err := gwjobs.NewQueue(ctx, db.SQL(), db.Dialect(), gwjobs.Options{})
		if err != nil {
			b.Fatal(err)
		}
		db.SetChangeQueue(q)
	}
	sys := gateway.NewReference(db)
	sys.Now = func() time.Time { return time.Date(2027, 4, 1, 12, 0, 0, 0, time.UTC) }
	if _, err := sys.AddCourse(ctx, "BST", "Basic Safety Training"); err != nil {
		b.Fatal(err)
	}
	if _, err := sys.AddClass(ctx, "BST", "BIG", classFields(1_000_000)); err != nil {
		b.Fatal(err)
	}
	cpu0 := cpuTime()
	i := 0
	for b.Loop() {
		i++
		if _, err := sys.Reserve(ctx, gateway.ReserveRequest{CourseID: "BST", ClassID: "BIG", PortalReference: fmt.Sprintf("TP-%d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reserves/s")
	// The process's CPU (every goroutine's, River's included) per reservation: on a
	// shared machine a steadier figure than the time.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
