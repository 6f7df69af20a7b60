package conformance

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// outcome is what a scenario function returns.
type outcome struct {
	status Status
	why    string
	// abort skips every later scenario except the clean-up ones: nothing can
	// work after the credentials were refused, say.
	abort bool
}

func pass(format string, a ...any) outcome {
	return outcome{status: Pass, why: fmt.Sprintf(format, a...)}
}
func fail(format string, a ...any) outcome {
	return outcome{status: Fail, why: fmt.Sprintf(format, a...)}
}
func skip(format string, a ...any) outcome {
	return outcome{status: Skip, why: fmt.Sprintf(format, a...)}
}
func warn(format string, a ...any) outcome {
	return outcome{status: Warn, why: fmt.Sprintf(format, a...)}
}

// scenario is one named check of a suite.
type scenario struct {
	name string
	run  func(ctx context.Context) outcome
	// cleanup scenarios run even after an abort or an interrupt, on a context
	// of their own, so the kit never leaves what it made behind.
	cleanup bool
}

// cleanupTimeout bounds the clean-up scenarios once the run's context is done.
const cleanupTimeout = time.Minute

// Progress says where a running suite shows which scenario it is at. On a
// terminal the line is rewritten in place; otherwise each scenario gets a line.
type Progress struct {
	W        io.Writer // nil: no progress
	Terminal bool
}

func (p Progress) show(i, n int, name string) {
	if p.W == nil {
		return
	}
	if p.Terminal {
		fmt.Fprintf(p.W, "\r\x1b[K[%d/%d] %s …", i, n, name)
		return
	}
	fmt.Fprintf(p.W, "[%d/%d] %s …\n", i, n, name)
}

func (p Progress) clear() {
	if p.W != nil && p.Terminal {
		fmt.Fprint(p.W, "\r\x1b[K")
	}
}

// runSuite runs the scenarios in order and returns their report.
func runSuite(ctx context.Context, suite, target string, scenarios []scenario, progress Progress) Report {
	rep := Report{Suite: suite, Target: target, Started: time.Now()}
	aborted := ""
	for i, sc := range scenarios {
		progress.show(i+1, len(scenarios), sc.name)
		start := time.Now()
		var out outcome
		switch {
		case sc.cleanup && ctx.Err() != nil:
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
			out = protect(cctx, sc)
			cancel()
		case sc.cleanup:
			out = protect(ctx, sc)
		case ctx.Err() != nil:
			out = skip("not run: the run was interrupted")
		case aborted != "":
			out = skip("not run: %s", aborted)
		default:
			out = protect(ctx, sc)
			if ctx.Err() != nil && out.status == Fail {
				// The call was cut short by the interrupt, not by the implementation.
				out = skip("interrupted: %s", out.why)
			}
			if out.abort {
				aborted = sc.name + " failed"
			}
		}
		rep.Results = append(rep.Results, Result{Name: sc.name, Status: out.status, Why: oneLine(out.why), Duration: time.Since(start)})
	}
	progress.clear()
	rep.Interrupted = ctx.Err() != nil
	rep.Duration = time.Since(rep.Started)
	return rep
}

// protect runs a scenario, turning a panic (a bug in the kit) into a failure,
// so the clean-up still runs.
func protect(ctx context.Context, sc scenario) (out outcome) {
	defer func() {
		if r := recover(); r != nil {
			out = fail("the conformance kit itself failed (please report it): %v", r)
		}
	}()
	return sc.run(ctx)
}

// maxWhy is the longest explanation kept, so one wild answer cannot flood the report.
const maxWhy = 600

// oneLine makes an explanation fit one report line.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= maxWhy {
		return s
	}
	cut := maxWhy
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// excerpt quotes the start of a body for an explanation.
func excerpt(b []byte, n int) string {
	s := strings.ToValidUTF8(string(b), "?")
	if len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return fmt.Sprintf("%q", s)
}
