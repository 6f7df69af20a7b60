package loadbench

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// serverTitle is a server's name in the table.
var serverTitle = map[string]string{Ceiling: "ceiling", SQLite: "SQLite", Postgres: "PostgreSQL"}

// Write prints the result as Markdown: the table, the machine, peak memory, idle CPU,
// answers that differ from the ceiling's, and failures.
func (r *Result) Write(w io.Writer) {
	cfg := r.Config
	fmt.Fprintf(w, "Load benchmark: c = %d, %d round(s) of %v per path and server, medians; %s.\n\n",
		cfg.Concurrency, cfg.Rounds, cfg.Duration, strings.Join(titles(r.Servers), ", "))
	head := []string{fmt.Sprintf("path (c = %d)", cfg.Concurrency), "ceiling req/s"}
	align := []string{"---", "---:"}
	for _, s := range r.Servers[1:] {
		head = append(head, serverTitle[s]+" req/s", "% of ceiling")
		align = append(align, "---:", "---:")
	}
	head = append(head, "p50 / p99 ms: "+strings.Join(titles(r.Servers), " · "),
		"server CPU µs/req: "+strings.Join(titles(r.Servers), " / "), "failed")
	align = append(align, "---", "---", "---:")
	fmt.Fprintf(w, "| %s |\n|%s|\n", strings.Join(head, " | "), strings.Join(align, "|"))
	for _, row := range r.Rows {
		ceil := row.By[Ceiling]
		cells := []string{row.Label, thousands(ceil.Rate)}
		var lat, cpu []string
		var failed uint64
		for _, s := range r.Servers {
			m := row.By[s]
			if s != Ceiling {
				pct := "–"
				switch {
				case row.Rate > 0:
					pct = "paced"
				case ceil.Rate > 0:
					pct = fmt.Sprintf("%.1f %%", 100*m.Rate/ceil.Rate)
				}
				cells = append(cells, thousands(m.Rate), pct)
			}
			lat = append(lat, ms(m.P50)+" / "+ms(m.P99))
			cpu = append(cpu, thousands(float64(m.CPU)/float64(time.Microsecond)))
			failed += m.Failed
		}
		cells = append(cells, strings.Join(lat, " · "), strings.Join(cpu, " / "), strconv.FormatUint(failed, 10))
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	r.writeMachineCPU(w)
	m := r.Machine
	fmt.Fprintf(w, "\nMachine: %s, %d cores, %s, %s; load average %s before, %s after.\n",
		m.CPU, m.Cores, m.KernelLabel, m.GoVersion, m.LoadBefore, m.LoadAfter)
	fmt.Fprintf(w, "Peak RSS (VmHWM, seeding included): %s.\n", r.mebibytes(r.PeakRSS))
	if len(r.LoadRSS) > 0 {
		fmt.Fprintf(w, "Of which: until the end of the seeding %s; after it, under load, %s.\n",
			r.mebibytes(r.SeedRSS), r.mebibytes(r.LoadRSS))
	}
	for _, idle := range r.Idle {
		fmt.Fprintf(w, "Idle: tportal on %s with %s classes stored used %v of CPU in %v: %.2f %% of a core.\n",
			serverTitle[idle.Server], thousands(float64(idle.Classes)), idle.CPU, idle.Over,
			100*idle.CPU.Seconds()/idle.Over.Seconds())
	}
	if len(r.Mismatch) == 0 {
		fmt.Fprintln(w, "Answers: tportal's bodies are byte for byte the ceiling's on every measured request (booking references and times aside).")
	} else {
		fmt.Fprintln(w, "Answers that differ from the ceiling's (the ratio then compares different work):")
		for _, d := range r.Mismatch {
			fmt.Fprintf(w, "- %s\n", d)
		}
	}
	for _, row := range r.Rows {
		for _, s := range r.Servers {
			if m := row.By[s]; m.Failed > 0 {
				fmt.Fprintf(w, "FAILED: %s on %s: %d of %d requests: %s\n", row.Path, serverTitle[s], m.Failed, m.Requests, strings.Join(m.Errors, "; "))
			}
		}
	}
}

// writeMachineCPU prints where the machine's CPU went, path by path: every process's
// and the kernel's busy time per request, PostgreSQL's part of it, the share of the
// cores busy, and the highest share of the ceiling's rate that this much CPU per
// request allows with every core busy. Below the goal, that bound says no
// queueing or latency change can reach the goal on this machine: only less CPU per
// request can, in tportal or in the database.
func (r *Result) writeMachineCPU(w io.Writer) {
	cores := r.Machine.Cores
	if cores < 1 || len(r.Rows) == 0 {
		return
	}
	_, withPostgres := r.Rows[0].By[Postgres]
	fmt.Fprintf(w, "\nWhere the machine's CPU went (every process and the kernel, per request; %d cores give at most %d s of CPU a second):\n\n", cores, cores)
	head := []string{fmt.Sprintf("path (c = %d)", r.Config.Concurrency), "machine CPU µs/req: " + strings.Join(titles(r.Servers), " / ")}
	align := []string{"---", "---"}
	if withPostgres {
		head = append(head, "of which PostgreSQL's processes")
		align = append(align, "---:")
	}
	head = append(head, "cores busy: "+strings.Join(titles(r.Servers), " / "), "at most, with every core busy: "+strings.Join(titles(r.Servers[1:]), " / "))
	align = append(align, "---", "---")
	fmt.Fprintf(w, "| %s |\n|%s|\n", strings.Join(head, " | "), strings.Join(align, "|"))
	for _, row := range r.Rows {
		ceil := row.By[Ceiling]
		var cpu, busy, bound []string
		for _, s := range r.Servers {
			m := row.By[s]
			cpu = append(cpu, thousands(float64(m.MachineCPU)/float64(time.Microsecond)))
			busy = append(busy, fmt.Sprintf("%.0f %%", 100*m.Busy))
			if s == Ceiling {
				continue
			}
			switch {
			case row.Rate > 0:
				bound = append(bound, "paced")
			case m.MachineCPU > 0 && ceil.Rate > 0:
				bound = append(bound, fmt.Sprintf("%.1f %%", 100*float64(cores)/m.MachineCPU.Seconds()/ceil.Rate))
			default:
				bound = append(bound, "–")
			}
		}
		cells := []string{row.Label, strings.Join(cpu, " / ")}
		if withPostgres {
			cells = append(cells, thousands(float64(row.By[Postgres].DatabaseCPU)/float64(time.Microsecond)))
		}
		cells = append(cells, strings.Join(busy, " / "), strings.Join(bound, " / "))
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
}

// mebibytes lists the servers' sizes in bytes as "SQLite 59.4 MiB, …".
func (r *Result) mebibytes(by map[string]int64) string {
	var out []string
	for _, s := range r.Servers {
		if v, ok := by[s]; ok {
			out = append(out, fmt.Sprintf("%s %.1f MiB", serverTitle[s], float64(v)/(1<<20)))
		}
	}
	return strings.Join(out, ", ")
}

func titles(servers []string) []string {
	var out []string
	for _, s := range servers {
		out = append(out, serverTitle[s])
	}
	return out
}

// thousands writes a rounded number with thin spaces between thousands, as the docs do.
func thousands(f float64) string {
	s := strconv.FormatInt(int64(f+0.5), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + " " + s[i:]
	}
	return s
}

func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case v < 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}
