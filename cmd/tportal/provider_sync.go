package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/tportal/tportal/internal/gateway/gwjobs"
	"github.com/tportal/tportal/internal/gateway/gwstore"
	"github.com/tportal/tportal/internal/gateway/reconcile"
	"github.com/tportal/tportal/tpclient"
)

// The gateway's background half: the job queue behind every provider command, the
// jobs `provider serve` works, and `provider reconcile`.

// newChangeQueue returns the queue the store tells, in its own transaction, of every
// class change, new hold and attendance outcome, so that each reaches the portal even
// when serve is down at the time. Commands only insert: their changes wait in the
// queue until serve works them.
func newChangeQueue(ctx context.Context, db *gwstore.DB) (gwstore.ChangeQueue, error) {
	return gwjobs.NewQueue(ctx, db.SQL(), db.Dialect(), gwjobs.Options{})
}

// syncFlags tune the gateway's background work (`provider serve`).
type syncFlags struct {
	providerName                 string
	confirmWindow                time.Duration
	confirmBackoff, retryBackoff time.Duration
	pushDelay, poll, rescueAfter time.Duration
}

func (s *syncFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.providerName, "provider-name", "", "the provider's name, printed on course certificates as their issuer")
	fs.DurationVar(&s.confirmWindow, "confirm-window", 10*time.Minute, "how long a held seat waits for the portal to confirm the booking before it is released")
	fs.DurationVar(&s.confirmBackoff, "confirm-backoff", time.Second, "first wait between confirmation attempts while the portal answers 404 (doubles, full jitter, up to 1m)")
	fs.DurationVar(&s.retryBackoff, "retry-backoff", 5*time.Second, "first wait before a failed catalogue push or outcome report is retried (doubles, full jitter, up to 15m)")
	fs.DurationVar(&s.pushDelay, "push-delay", time.Second, "how long a class change waits before it is pushed, so a burst of changes makes one call")
	fs.DurationVar(&s.poll, "job-poll", time.Second, "how often idle workers look for queued work")
	fs.DurationVar(&s.rescueAfter, "job-rescue-after", 2*time.Minute, "how long a job may run before it is taken for lost (its process killed) and run again")
}

func (s *syncFlags) options(logger *slog.Logger) gwjobs.Options {
	return gwjobs.Options{
		ProviderName: s.providerName, ConfirmWindow: s.confirmWindow,
		ConfirmBase: s.confirmBackoff, ConfirmMax: max(time.Minute, s.confirmBackoff),
		RetryBase: s.retryBackoff, RetryMax: max(15*time.Minute, s.retryBackoff),
		PushDelay: s.pushDelay, PollEvery: s.poll, RescueAfter: s.rescueAfter, Logger: logger,
	}
}

// portalClient is the SDK client for the portal the flags name, after checking them.
func portalClient(p portalFlags) (*tpclient.Client, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	return p.client(tpclient.WithUserAgent("tportal-gateway/1"))
}

// startGatewayJobs starts the background work of `provider serve` and makes the
// store queue its changes for it. The returned function stops it, waiting for
// running jobs up to grace.
func startGatewayJobs(ctx context.Context, env providerEnv, portal portalFlags, s syncFlags, logger *slog.Logger, grace time.Duration) (stop func(), err error) {
	client, err := portalClient(portal)
	if err != nil {
		return nil, err
	}
	deps := gwjobs.Deps{Store: env.db, System: env.sys, Portal: client}
	runner, err := gwjobs.New(ctx, env.db.SQL(), env.db.Dialect(), deps, s.options(logger))
	if err != nil {
		return nil, err
	}
	env.db.SetChangeQueue(&runner.Queue)
	// Jobs run until Stop, not until ctx ends, so that a shutdown lets them finish.
	if err := runner.Start(context.WithoutCancel(ctx)); err != nil {
		return nil, err
	}
	return func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), grace)
		defer cancel()
		if err := runner.Stop(stopCtx); err != nil {
			logger.Warn("background work did not stop in time; unfinished jobs run again at the next start", "err", err)
		}
	}, nil
}

// runReconcile is `tportal provider reconcile [--dry-run]`: each difference on its own
// line on stdout, progress on stderr, a summary last.
func runReconcile(ctx context.Context, env providerEnv, dryRun bool) error {
	var p portalFlags
	for name, dst := range map[string]*string{"portal": &p.baseURL, "username": &p.username, "password": &p.password} {
		if f := env.fs.Lookup(name); f != nil {
			*dst = f.Value.String()
		}
	}
	client, err := portalClient(p)
	if err != nil {
		return err
	}
	rep, err := reconcile.Run(ctx, env.db, client, reconcile.Options{DryRun: dryRun, Progress: env.stderr})
	if err != nil {
		return err
	}
	repaired := 0
	for _, d := range rep.Drift {
		fmt.Fprintln(env.out, d)
		if d.Repaired {
			repaired++
		}
	}
	summary := fmt.Sprintf("%s, %s: %s", plural(rep.Courses, "course", "courses"), plural(rep.Classes, "class", "classes"),
		plural(len(rep.Drift), "difference", "differences"))
	if dryRun {
		fmt.Fprintln(env.out, summary+"; nothing changed (dry run)")
	} else {
		fmt.Fprintf(env.out, "%s, %d repaired\n", summary, repaired)
	}
	if rep.Failed > 0 {
		return errors.New(plural(rep.Failed, "course or repair", "courses or repairs") + " failed; see above")
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
