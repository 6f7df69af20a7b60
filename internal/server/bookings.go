package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tportal/tportal/internal/booking"
)

// BookingCounter counts bookings by state; *store.DB satisfies it.
type BookingCounter interface {
	BookingCounts(ctx context.Context) (map[booking.State]int, error)
}

// bookingCollector reports tportal_bookings{state} from the database at each scrape,
// so every instance of a scaled-out portal reports the same, true numbers.
type bookingCollector struct {
	counter BookingCounter
	desc    *prometheus.Desc
}

// RegisterBookingMetrics adds the bookings-by-state gauge to reg.
func RegisterBookingMetrics(reg prometheus.Registerer, c BookingCounter) {
	reg.MustRegister(&bookingCollector{
		counter: c,
		desc:    prometheus.NewDesc("tportal_bookings", "Bookings by state, read from the database at scrape time.", []string{"state"}, nil),
	})
}

func (c *bookingCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *bookingCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.counter.BookingCounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for _, s := range booking.States {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[s]), string(s))
	}
}

// GroupCommitCounter reports the SQLite store's group transactions; *store.DB
// satisfies it.
type GroupCommitCounter interface {
	GroupCommits() (groups, writers uint64)
}

// RegisterGroupCommitMetrics adds tportal_sqlite_group_commits_total and
// tportal_sqlite_group_commit_writers_total to reg: their ratio is how many writes
// shared each commit (docs/operations.md).
func RegisterGroupCommitMetrics(reg prometheus.Registerer, c GroupCommitCounter) {
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "tportal_sqlite_group_commits_total",
			Help: "SQLite group transactions ended (committed or lost), each holding one or more writes.",
		}, func() float64 { g, _ := c.GroupCommits(); return float64(g) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "tportal_sqlite_group_commit_writers_total",
			Help: "Writes that ran in SQLite group transactions; divided by tportal_sqlite_group_commits_total, the writes per commit.",
		}, func() float64 { _, w := c.GroupCommits(); return float64(w) }),
	)
}
