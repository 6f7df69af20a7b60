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
