// Package server assembles the portal's HTTP surface: the APIs, health and readiness
// probes, Prometheus metrics, request logs, and a graceful shutdown.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Pinger reports whether a dependency (the database) answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Mux is what an adapter adds its routes to: *http.ServeMux in the server, and a
// recorder in the test that checks every route is described in the OpenAPI document.
type Mux interface {
	Handle(pattern string, handler http.Handler)
	HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request))
}

// Registrar adds routes to a mux; each API package's type satisfies it.
type Registrar interface {
	Register(mux Mux)
}

// Metrics are the HTTP server's Prometheus collectors.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewRegistry returns a Prometheus registry with the Go and process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// NewMetrics registers the request metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tportal_http_requests_total",
			Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tportal_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// Handler returns the portal's HTTP handler: every registrar's routes plus /healthz,
// /readyz and /metrics, wrapped in request logging, metrics and panic recovery. Paths
// are cleaned before they are matched, never redirected.
func Handler(db Pinger, reg *prometheus.Registry, m *Metrics, logger *slog.Logger, apis ...Registrar) http.Handler {
	mux := http.NewServeMux()
	for _, a := range apis {
		a.Register(mux)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := db.Ping(ctx); err != nil {
			logger.ErrorContext(ctx, "readiness: database does not answer", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("database unavailable\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return observe(mux, m, logger)
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// observe logs each request and counts it by route pattern. It logs the path, never
// the query string or body, since API credentials travel there.
func observe(mux *http.ServeMux, m *Metrics, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		r = withCleanPath(r)
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				logger.ErrorContext(r.Context(), "panic serving request", "path", r.URL.Path, "panic", p)
				if rec.status == 0 {
					http.Error(rec, `{"errorMessage":"internal error; it has been logged"}`, http.StatusInternalServerError)
				}
			}
			elapsed := time.Since(start)
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			if rec.status == 0 {
				rec.status = http.StatusOK
			}
			m.requests.WithLabelValues(route, r.Method, strconv.Itoa(rec.status)).Inc()
			m.latency.WithLabelValues(route).Observe(elapsed.Seconds())
			if route == "GET /metrics" || route == "GET /healthz" || route == "GET /readyz" {
				return
			}
			logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("route", route),
				slog.Int("status", rec.status), slog.Duration("duration", elapsed),
				slog.String("remote", r.RemoteAddr))
		}()
		mux.ServeHTTP(rec, r)
	})
}

// Run serves h on ln until ctx is done, then shuts down gracefully: it stops
// accepting, and waits up to grace for requests in flight.
func Run(ctx context.Context, ln net.Listener, h http.Handler, grace time.Duration, logger *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	shutdown := Graceful(srv)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down", "grace", grace)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Graceful prepares srv for a graceful shutdown (call it before srv serves) and
// returns the shutdown: srv.Shutdown, which waits for requests in flight, except that
// connections on which no request has started are closed at once. http.Server
// waits for those until they are 5 s old, so a client's spare connection (Go's
// transport dials one for a request that a freed connection then serves) made a
// shutdown with nothing in flight run out of a grace of 5 s. Past ctx, the error
// says how many connections still had a request running.
func Graceful(srv *http.Server) (shutdown func(ctx context.Context) error) {
	var mu sync.Mutex
	states := map[net.Conn]http.ConnState{}
	hook := srv.ConnState
	srv.ConnState = func(c net.Conn, s http.ConnState) {
		mu.Lock()
		if s == http.StateClosed || s == http.StateHijacked {
			delete(states, c)
		} else {
			states[c] = s
		}
		mu.Unlock()
		if hook != nil {
			hook(c, s)
		}
	}
	closeFresh := func() {
		mu.Lock()
		defer mu.Unlock()
		for c, s := range states {
			if s == http.StateNew {
				c.Close()
			}
		}
	}
	return func(ctx context.Context) error {
		done := make(chan error, 1)
		go func() { done <- srv.Shutdown(ctx) }()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			closeFresh()
			select {
			case err := <-done:
				if err == nil {
					return nil
				}
				mu.Lock()
				active := 0
				for _, s := range states {
					if s == http.StateActive {
						active++
					}
				}
				mu.Unlock()
				return fmt.Errorf("shutdown: %d connections still had a request running after the grace period: %w", active, err)
			case <-tick.C:
			}
		}
	}
}
