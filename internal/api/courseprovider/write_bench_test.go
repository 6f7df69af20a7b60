package courseprovider_test

import (
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/tportal/tportal/internal/store/storetest"
)

// writeClients is the goroutines per core of BenchmarkWrites: 8 on this 2-core
// machine makes the 16 concurrent clients of issue 11's table.
const writeClients = 8

// BenchmarkWrites measures addClass and updateClass through the whole HTTP stack on
// each database with 16 concurrent clients (on 2 cores), and reports each as a share
// of BenchmarkCeiling's rate measured first in the same run, at the same concurrency
// ("ceiling-%"): the machine is shared and noisy, so only ratios within one run
// compare.
//
//	TPORTAL_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable \
//	  go test -run '^$' -bench Writes -benchtime 3s ./internal/api/courseprovider/
func BenchmarkWrites(b *testing.B) {
	var ceiling float64
	b.Run("ceiling", func(b *testing.B) {
		b.SetParallelism(writeClients)
		cpu := storetest.ProcessCPU()
		BenchmarkCeiling(b)
		ceiling = float64(b.N) / b.Elapsed().Seconds()
		b.ReportMetric(float64((storetest.ProcessCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
	})
	for _, dialect := range storetest.Dialects() {
		p := newPortal(b, dialect)
		// run measures one write; besides the rate and its share of the ceiling it
		// reports the process's CPU per request (client and server: compare with the
		// ceiling's) and how many connections the pool closed for being one idle
		// connection too many, each of them reopened later at a cost.
		run := func(b *testing.B, do func(c *http.Client)) {
			b.SetParallelism(writeClients)
			b.ReportAllocs()
			closed, cpu := p.db.SQL().Stats().MaxIdleClosed, storetest.ProcessCPU()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				c := &http.Client{}
				for pb.Next() {
					do(c)
				}
			})
			b.StopTimer()
			rate := float64(b.N) / b.Elapsed().Seconds()
			b.ReportMetric(rate, "req/s")
			if ceiling > 0 {
				b.ReportMetric(100*rate/ceiling, "ceiling-%")
			}
			b.ReportMetric(float64((storetest.ProcessCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
			b.ReportMetric(float64(p.db.SQL().Stats().MaxIdleClosed-closed)/float64(b.N), "conns-closed/op")
		}
		const classes = 50
		for i := range classes {
			postForm(b, http.DefaultClient, p.base+"/BST/courseClasses/add", withCreds(p.acme, classForm("U"+strconv.Itoa(i))))
		}
		var n atomic.Int64
		b.Run(dialect+"/addClass", func(b *testing.B) {
			run(b, func(c *http.Client) {
				postForm(b, c, p.base+"/BST/courseClasses/add", withCreds(p.acme, classForm("B"+strconv.FormatInt(n.Add(1), 10))))
			})
		})
		b.Run(dialect+"/updateClass", func(b *testing.B) {
			run(b, func(c *http.Client) {
				i := n.Add(1)
				postForm(b, c, p.base+"/BST/courseClasses/update", withCreds(p.acme, url.Values{
					"externalId": {"U" + strconv.FormatInt(i%classes, 10)}, "availableSeats": {strconv.FormatInt(i%40, 10)},
				}))
			})
		})
	}
}
