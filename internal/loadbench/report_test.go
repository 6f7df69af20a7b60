package loadbench

import (
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

func TestThousands(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{{0, "0"}, {999.4, "999"}, {999.5, "1 000"}, {12345, "12 345"}, {1234567, "1 234 567"}} {
		if got := thousands(tc.in); got != tc.want {
			t.Errorf("thousands(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMS(t *testing.T) {
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{{1234 * time.Microsecond, "1.23"}, {12345 * time.Microsecond, "12.3"}, {123456 * time.Microsecond, "123"}} {
		if got := ms(tc.in); got != tc.want {
			t.Errorf("ms(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMaskBooking(t *testing.T) {
	a := maskBooking([]byte(`{"bookingReference":"a","status":"RESERVED","providerBookingReference":"P-1","createdAt":"x","updatedAt":"y"}`))
	b := maskBooking([]byte(`{"bookingReference":"b","status":"RESERVED","providerBookingReference":"P-2","createdAt":"z","updatedAt":"w"}`))
	if string(a) != string(b) {
		t.Errorf("masked answers differ: %s / %s", a, b)
	}
	c := maskBooking([]byte(`{"bookingReference":"b","status":"REJECTED"}`))
	if string(a) == string(c) {
		t.Errorf("masking hid the status: %s", c)
	}
}

// TestProcStats reads this test process's own CPU time and peak RSS, which are never
// zero once it has run for a moment.
func TestProcStats(t *testing.T) {
	deadline := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(deadline) { // burn some CPU so that at least a tick is counted
	}
	cpu, err := cpuTime(os.Getpid())
	if err != nil || cpu <= 0 {
		t.Errorf("cpuTime = %v, %v; want > 0", cpu, err)
	}
	rss, err := peakRSS(os.Getpid())
	if err != nil || rss < 1<<20 {
		t.Errorf("peakRSS = %d, %v; want at least 1 MiB", rss, err)
	}
	// A peak made and dropped before the reset is not reported after it. Of the 64 MiB,
	// a quarter must be gone: under the race detector its shadow memory stays mapped.
	big := make([]byte, 64<<20)
	for i := 0; i < len(big); i += 4096 {
		big[i] = 1
	}
	before, _ := peakRSS(os.Getpid())
	big = nil
	runtime.GC()
	debug.FreeOSMemory()
	if err := resetPeakRSS(os.Getpid()); err != nil {
		t.Fatalf("resetPeakRSS: %v", err)
	}
	if after, err := peakRSS(os.Getpid()); err != nil || after >= before-16<<20 {
		t.Errorf("peakRSS after reset = %d, %v; want well below %d", after, err, before)
	}
	busy, err := machineBusy()
	if err != nil || busy < cpu {
		t.Errorf("machineBusy = %v, %v; want at least this process's %v", busy, err, cpu)
	}
	self, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	if got := commandCPU(strings.TrimSpace(string(self))); got < cpu {
		t.Errorf("commandCPU(%q) = %v; want at least this process's %v", strings.TrimSpace(string(self)), got, cpu)
	}
	if got := commandCPU("no-such-command"); got != 0 {
		t.Errorf("commandCPU of no process = %v, want 0", got)
	}
	if m := machine(); m.Cores < 1 || m.LoadBefore == "" {
		t.Errorf("machine() = %+v", m)
	}
}

// TestWritePaced: a row driven at a fixed rate shows no share of the ceiling, which
// would only compare the offered rate with itself; a row driven as fast as answered
// shows its share.
func TestWritePaced(t *testing.T) {
	m := func(rate float64) *Measure {
		return &Measure{Rate: rate, P50: time.Millisecond, P99: 2 * time.Millisecond}
	}
	r := &Result{
		Config:  Config{Concurrency: 16, Rounds: 1, Duration: time.Second},
		Servers: []string{Ceiling, SQLite},
		Rows: []Row{
			{Path: "bookings", Label: "closed", By: map[string]*Measure{Ceiling: m(1000), SQLite: m(250)}},
			{Path: "bookingsPaced", Label: "paced", Rate: 200, By: map[string]*Measure{Ceiling: m(200), SQLite: m(199)}},
		},
	}
	var out strings.Builder
	r.Write(&out)
	for _, want := range []string{"| closed | 1 000 | 250 | 25.0 % |", "| paced | 200 | 199 | paced |"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the table has no %q:\n%s", want, out.String())
		}
	}
}

// TestWriteMachineCPU: the machine table gives each server's whole-machine CPU per
// request, PostgreSQL's part, and the highest share of the ceiling that CPU allows
// with every core busy: 2 cores at 1 000 µs a request serve at most 2 000 a second,
// 25 % of a ceiling at 8 000.
func TestWriteMachineCPU(t *testing.T) {
	m := func(rate float64, machine, database time.Duration, busy float64) *Measure {
		return &Measure{Rate: rate, MachineCPU: machine, DatabaseCPU: database, Busy: busy}
	}
	r := &Result{
		Config:  Config{Concurrency: 16, Rounds: 1, Duration: time.Second},
		Servers: []string{Ceiling, SQLite, Postgres},
		Machine: Machine{Cores: 2},
		Rows: []Row{
			{Path: "bookings", Label: "closed", By: map[string]*Measure{
				Ceiling: m(8000, 250*time.Microsecond, 0, 1), SQLite: m(1800, 1000*time.Microsecond, 0, 0.9),
				Postgres: m(1000, 1600*time.Microsecond, 600*time.Microsecond, 0.8)}},
			{Path: "bookingsPaced", Label: "paced", Rate: 200, By: map[string]*Measure{
				Ceiling: m(200, 500*time.Microsecond, 0, 0.05), SQLite: m(200, 1500*time.Microsecond, 0, 0.15),
				Postgres: m(200, 2000*time.Microsecond, 700*time.Microsecond, 0.2)}},
		},
	}
	var out strings.Builder
	r.Write(&out)
	for _, want := range []string{
		"| closed | 250 / 1 000 / 1 600 | 600 | 100 % / 90 % / 80 % | 25.0 % / 15.6 % |",
		"| paced | 500 / 1 500 / 2 000 | 700 | 5 % / 15 % / 20 % | paced / paced |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the machine table has no %q:\n%s", want, out.String())
		}
	}
}
