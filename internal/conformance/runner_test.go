package conformance

import (
	"context"
	"strings"
	"testing"
)

func TestRunSuiteInterruptAndAbort(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cleanupCtxErr error
	cleaned := false
	scenarios := []scenario{
		{name: "first", run: func(context.Context) outcome { return pass("fine") }},
		{name: "cut short", run: func(ctx context.Context) outcome { cancel(); return fail("no usable answer: %v", ctx.Err()) }},
		{name: "later", run: func(context.Context) outcome { t.Error("ran after the interrupt"); return pass("") }},
		{name: "boom", run: func(context.Context) outcome { panic("bug") }, cleanup: true},
		{name: "clean-up", run: func(ctx context.Context) outcome {
			cleaned, cleanupCtxErr = true, ctx.Err()
			return pass("done")
		}, cleanup: true},
	}
	rep := runSuite(ctx, "test", "t", scenarios, Progress{})
	want := []struct {
		status Status
		why    string
	}{{Pass, "fine"}, {Skip, "interrupted: no usable answer: context canceled"}, {Skip, "the run was interrupted"},
		{Fail, "the conformance kit itself failed (please report it): bug"}, {Pass, "done"}}
	for i, w := range want {
		if got := rep.Results[i]; got.Status != w.status || !strings.Contains(got.Why, w.why) {
			t.Errorf("%s: %s %q, want %s %q", got.Name, got.Status, got.Why, w.status, w.why)
		}
	}
	if !cleaned || cleanupCtxErr != nil {
		t.Errorf("clean-up ran %v, on a context with error %v; want it run on a live context", cleaned, cleanupCtxErr)
	}
	if rep.Passed() || !rep.Interrupted {
		t.Errorf("Passed() = %v, Interrupted = %v: an interrupted run must not pass", rep.Passed(), rep.Interrupted)
	}

	aborted := runSuite(context.Background(), "test", "t", []scenario{
		{name: "login", run: func(context.Context) outcome { return aborting(fail("refused")) }},
		{name: "next", run: func(context.Context) outcome { t.Error("ran after an abort"); return pass("") }},
		{name: "clean-up", run: func(context.Context) outcome { return pass("nothing") }, cleanup: true},
	}, Progress{})
	if r := aborted.Results[1]; r.Status != Skip || r.Why != "not run: login failed" {
		t.Errorf("after an abort: %s %q", r.Status, r.Why)
	}
	if aborted.Interrupted {
		t.Error("an aborted run is not an interrupted one")
	}
	if r := aborted.Results[2]; r.Status != Pass {
		t.Errorf("clean-up after an abort: %s %q", r.Status, r.Why)
	}
}
