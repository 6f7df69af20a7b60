package providercall

import (
	"errors"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts outgoing provider calls for Prometheus:
// tportal_provider_calls_total{provider,kind,outcome} and
// tportal_provider_call_duration_seconds{provider,kind}. A nil *Metrics
// records nothing.
type Metrics struct {
	calls    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics creates the metrics and registers them with reg (unless reg is
// nil). When reg already holds them, as when a demo runs several components
// in one process, the registered ones are shared rather than panicking.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tportal_provider_calls_total",
			Help: "Calls to course providers' reserve and cancel URLs, by outcome (answered or failed).",
		}, []string{"provider", "kind", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tportal_provider_call_duration_seconds",
			Help:    "Time from the start of a call to a course provider to its answer or failure.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"provider", "kind"}),
	}
	if reg != nil {
		m.calls = register(reg, m.calls)
		m.duration = register(reg, m.duration)
	}
	return m
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic("providercall: registering metrics: " + err.Error())
	}
	return c
}

func (m *Metrics) observe(c Call) {
	if m == nil {
		return
	}
	p := providerLabel(c)
	m.calls.WithLabelValues(p, string(c.Kind), string(c.Outcome)).Inc()
	m.duration.WithLabelValues(p, string(c.Kind)).Observe(c.Latency.Seconds())
}

// providerLabel is the provider's name, which is what people read on a
// dashboard, or its id when it has none.
func providerLabel(c Call) string {
	if c.ProviderName != "" {
		return c.ProviderName
	}
	return strconv.FormatInt(c.ProviderID, 10)
}
