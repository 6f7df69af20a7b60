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
