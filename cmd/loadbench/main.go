// Command loadbench is the load benchmark anyone can run from the repository root:
//
//	go run ./cmd/loadbench                      # c=16, 3 rounds of 5 s per path
//	TPORTAL_TEST_POSTGRES=postgres://... go run ./cmd/loadbench   # PostgreSQL rows too
//
// It builds tportal and the ceiling server, starts them over TCP, seeds tportal through
// its admin commands and API, drives every path with vegeta, and prints a Markdown
// table of throughput, the share of the ceiling, latency and server CPU per request.
// It exits 1 if any request failed. See docs/benchmarks.md, "Load benchmark (over TCP)".
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tportal/tportal/internal/loadbench"
)

func main() {
	os.Exit(run())
}

func run() int {
	cfg := loadbench.Config{Progress: os.Stderr}
	fs := flag.NewFlagSet("loadbench", flag.ContinueOnError)
	fs.DurationVar(&cfg.Duration, "duration", 5*time.Second, "how long each path is driven per server and round")
	fs.IntVar(&cfg.Rounds, "rounds", 3, "rounds (ceiling, SQLite, PostgreSQL interleaved in each); medians are reported")
	fs.IntVar(&cfg.Concurrency, "c", 16, "concurrent keep-alive connections, each sending its next request when answered")
	paths := fs.String("paths", "", "comma-separated paths to measure (default all): "+strings.Join(loadbench.PathNames(), ","))
	smoke := fs.Bool("smoke", false, "a quick check that everything works: 1 round of 1 s per path at c=2 (overrides -duration, -rounds, -c)")
	// The default is read after parsing, so that -h never prints a URL that may hold a password.
	fs.StringVar(&cfg.Postgres, "postgres", "", "PostgreSQL server URL on which a fresh database is created and dropped (default $TPORTAL_TEST_POSTGRES; neither skips PostgreSQL)")
	fs.IntVar(&cfg.IdleClasses, "idle-classes", 100000, "classes stored for the idle measurement (seeded through addClass)")
	fs.StringVar(&cfg.ProfileDir, "profile", "", "write a CPU profile of tportal over each attack into this folder (SERVER-PATH-rROUND.pprof), and a heap profile when it ends (SERVER-PATH-rROUND.heap.pprof); read with go tool pprof")
	fs.DurationVar(&cfg.IdleTime, "idle", 0, "measure tportal's idle CPU over this time with -idle-classes classes stored (0: skip; use ≥ 60s, the sweep runs every 30 s)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if cfg.Postgres == "" {
		cfg.Postgres = os.Getenv("TPORTAL_TEST_POSTGRES")
	}
	if *paths != "" {
		cfg.Paths = strings.Split(*paths, ",")
	}
	if *smoke {
		cfg.Duration, cfg.Rounds, cfg.Concurrency = time.Second, 1, 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := loadbench.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	res.Write(os.Stdout)
	if n := res.Failed(); n > 0 {
		fmt.Fprintf(os.Stderr, "loadbench: %d requests failed\n", n)
		return 1
	}
	return 0
}
