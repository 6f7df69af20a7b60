package loadbench

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSmoke runs the whole load benchmark briefly (1 round of 1 s per path at c = 2,
// and the idle measurement with a few classes over 1 s) so that it cannot rot: both
// binaries build, seeding works, each attack on tportal is profiled (CPU and heap), every path answers with its expected status on every
// server, tportal's answers are the ceiling's bytes, and the table has every row.
// PostgreSQL is measured when TPORTAL_TEST_POSTGRES is set.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs servers; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cfg := Config{Duration: time.Second, Rounds: 1, Concurrency: 2, Postgres: os.Getenv("TPORTAL_TEST_POSTGRES"),
		IdleClasses: 20, IdleTime: time.Second, ProfileDir: t.TempDir()}
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	res.Write(&out)
	t.Log("\n" + out.String())

	want := []string{Ceiling, SQLite}
	if cfg.Postgres != "" {
		want = append(want, Postgres)
	} else {
		t.Log("TPORTAL_TEST_POSTGRES is not set: no PostgreSQL rows")
	}
	if strings.Join(res.Servers, ",") != strings.Join(want, ",") {
		t.Errorf("servers %v, want %v", res.Servers, want)
	}
	if len(res.Rows) != len(PathNames()) {
		t.Errorf("%d rows, want one per path (%d)", len(res.Rows), len(PathNames()))
	}
	for i, row := range res.Rows {
		if i < len(PathNames()) && row.Path != PathNames()[i] {
			t.Errorf("row %d is %s, want %s", i, row.Path, PathNames()[i])
		}
		if !strings.Contains(out.String(), "| "+row.Label+" |") {
			t.Errorf("the table has no row %q", row.Label)
		}
		for _, s := range want {
			m := row.By[s]
			switch {
			case m == nil:
				t.Errorf("%s: no measure on %s", row.Path, s)
			case m.Failed > 0:
				t.Errorf("%s on %s: %d of %d requests failed: %v", row.Path, s, m.Failed, m.Requests, m.Errors)
			case m.Rate <= 0 || m.P50 <= 0:
				t.Errorf("%s on %s: rate %v, p50 %v: nothing measured", row.Path, s, m.Rate, m.P50)
			case row.Rate > 0 && m.Rate > 1.5*float64(row.Rate):
				t.Errorf("%s on %s: %.0f req/s where %d/s were offered: not paced", row.Path, s, m.Rate, row.Rate)
			}
			if s == Ceiling {
				continue
			}
			if fi, err := os.Stat(filepath.Join(cfg.ProfileDir, s+"-"+row.Path+"-r1.pprof")); err != nil || fi.Size() == 0 {
				t.Errorf("%s on %s: no CPU profile (%v)", row.Path, s, err)
			}
			if fi, err := os.Stat(filepath.Join(cfg.ProfileDir, s+"-"+row.Path+"-r1.heap.pprof")); err != nil || fi.Size() == 0 {
				t.Errorf("%s on %s: no heap profile (%v)", row.Path, s, err)
			}
		}
	}
	for _, d := range res.Mismatch {
		t.Errorf("answer differs from the ceiling's: %s", d)
	}
	if len(res.Idle) != len(want)-1 {
		t.Errorf("%d idle measures, want one per database", len(res.Idle))
	}
	for _, s := range want {
		if res.PeakRSS[s] <= 0 {
			t.Errorf("no peak RSS for %s", s)
		}
	}
}
