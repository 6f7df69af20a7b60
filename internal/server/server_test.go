package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/booking"
)

type pinger struct{ err error }

func (p pinger) Ping(context.Context) error { return p.err }

type routes struct{}

func (routes) Register(mux Mux) {
	mux.HandleFunc("GET /hello/{name}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") })
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
}

type counts map[booking.State]int

func (c counts) BookingCounts(context.Context) (map[booking.State]int, error) { return c, nil }

func get(t *testing.T, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec
}

func TestHandler(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	reg := NewRegistry()
	RegisterBookingMetrics(reg, counts{booking.Reserved: 3})
	h := Handler(pinger{}, reg, NewMetrics(reg), logger, routes{})

	for _, tt := range []struct {
		path   string
		status int
		body   string
	}{
		{"/healthz", 200, "ok"},
		{"/readyz", 200, "ready"},
		{"/hello/kari?password=secret", 200, "hi"},
		{"/boom", 500, "internal error"},
	} {
		if rec := get(t, h, tt.path); rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.body) {
			t.Errorf("GET %s = %d %q, want %d %q", tt.path, rec.Code, rec.Body.String(), tt.status, tt.body)
		}
	}
	metrics := get(t, h, "/metrics").Body.String()
	for _, want := range []string{
		`tportal_http_requests_total{code="200",method="GET",route="GET /hello/{name}"} 1`,
		`tportal_http_requests_total{code="500",method="GET",route="GET /boom"} 1`,
		`tportal_http_request_duration_seconds_count{route="GET /hello/{name}"} 1`,
		`tportal_bookings{state="RESERVED"} 3`,
		`tportal_bookings{state="PENDING"} 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(logs.String(), "secret") {
		t.Error("the query string reached the log")
	}
	if !strings.Contains(logs.String(), `"route":"GET /hello/{name}"`) || !strings.Contains(logs.String(), `"panic":"boom"`) {
		t.Errorf("logs = %s", logs.String())
	}

	down := Handler(pinger{errors.New("connection refused")}, NewRegistry(), NewMetrics(NewRegistry()), logger)
	if rec := get(t, down, "/readyz"); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("readyz with the database down = %d, want 503", rec.Code)
	}
}

// Run stops on cancel and lets a request in flight finish.
func TestRunGracefulShutdown(t *testing.T) {
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "done")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- Run(ctx, ln, h, 5*time.Second, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	got := make(chan string, 1)
	go func() {
		res, err := http.Get("http://" + ln.Addr().String())
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		got <- string(b)
	}()
	<-started
	cancel()
	if body := <-got; body != "done" {
		t.Errorf("request in flight got %q, want done", body)
	}
	if err := <-ran; err != nil {
		t.Errorf("Run = %v", err)
	}
}

// A connection on which no request has started (a client's spare connection) does not
// hold up a shutdown: http.Server alone waits for it until it is 5 s old, past a
// shorter grace, and Run failed with nothing in flight (TestDemo under load).
func TestRunShutdownDoesNotWaitForUnusedConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() {
		ran <- Run(ctx, ln, http.NotFoundHandler(), time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	spare, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer spare.Close()
	// The server has the connection once it answers a request on another one.
	if res, err := http.Get("http://" + ln.Addr().String()); err == nil {
		res.Body.Close()
	}
	cancel()
	select {
	case err := <-ran:
		if err != nil {
			t.Errorf("Run = %v, want nil: no request was in flight", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10 s of the cancel")
	}
}

// Past the grace, Run's error says that requests were still running.
func TestRunShutdownPastTheGraceSaysWhy(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- Run(ctx, ln, h, 200*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	go func() {
		if res, err := http.Get("http://" + ln.Addr().String()); err == nil {
			res.Body.Close()
		}
	}()
	<-started
	cancel()
	err = <-ran
	close(release)
	if err == nil || !strings.Contains(err.Error(), "1 connections still had a request running") {
		t.Errorf("Run = %v, want the count of requests still running", err)
	}
}
