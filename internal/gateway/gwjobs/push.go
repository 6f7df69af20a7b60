package gwjobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/gateway"
	"github.com/tportal/tportal/internal/gateway/reconcile"
	"github.com/tportal/tportal/tpclient"
)

// pushArgs is the push of one class's state to the portal. State is the fingerprint
// of the class as the change that inserted the job committed it.
type pushArgs struct {
	CourseID string `json:"course_id"`
	ClassID  string `json:"class_id"`
	State    string `json:"state"`
}

// Kind names the job in River's tables.
func (pushArgs) Kind() string { return "gateway.push_class" }

// fingerprint identifies what the portal is told of a class.
func fingerprint(c gateway.Class) string {
	b, _ := json.Marshal(reconcile.ToPortal(c)) // plain data: cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

type pushWorker struct {
	river.WorkerDefaults[pushArgs]
	deps Deps
	opts Options
}

// maxPushRounds bounds the pushes of one job while the class keeps changing under it.
const maxPushRounds = 5

// Work pushes the class's current state, unless the class changed after this job was
// inserted: every change inserts its own job, so the newest one makes the call, and a
// burst of changes makes one call. After a push it reads the class again: if it
// changed during the call, a concurrent job may have landed the newer state first,
// so it pushes again until what it pushed is still current.
//
// The job is inserted ready to run and waits PushDelay here rather than being
// scheduled for later: River moves scheduled jobs only every few seconds.
func (w *pushWorker) Work(ctx context.Context, job *river.Job[pushArgs]) error {
	a := job.Args
	if wait := job.CreatedAt.Add(w.opts.PushDelay).Sub(w.opts.Now()); wait > 0 {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return river.JobSnooze(0) // stopping: run it again at the next start
		}
	}
	current, err := w.deps.Store.Class(ctx, a.CourseID, a.ClassID)
	switch {
	case errs.Is(err, errs.NotFound):
		w.opts.Logger.WarnContext(ctx, "catalogue push: the class is gone from the gateway", "course", a.CourseID, "class", a.ClassID)
		return nil
	case err != nil:
		return err
	case fingerprint(current) != a.State:
		return nil // a newer change's job pushes the newer state
	}
	for range maxPushRounds {
		if err := reconcile.Push(ctx, w.deps.Portal, current); err != nil {
			return w.failed(ctx, job, err)
		}
		after, err := w.deps.Store.Class(ctx, a.CourseID, a.ClassID)
		if err != nil {
			return err
		}
		if fingerprint(after) == fingerprint(current) {
			return nil
		}
		current = after
	}
	return errors.New("the class kept changing while it was pushed; trying again")
}

// failed decides what a failed push becomes: a refusal that a retry cannot change (the
// portal finds the class invalid, or the course is another provider's) is logged and
// given up, since the next edit of the class pushes again; anything else is retried.
func (w *pushWorker) failed(ctx context.Context, job *river.Job[pushArgs], err error) error {
	log := w.opts.Logger.With("course", job.Args.CourseID, "class", job.Args.ClassID, "attempt", job.Attempt)
	if errors.Is(err, tpclient.ErrBadRequest) || errors.Is(err, tpclient.ErrForbidden) {
		log.ErrorContext(ctx, "the portal refused the class; fix it and update it to push again", "err", err)
		return river.JobCancel(err)
	}
	if job.Attempt >= job.MaxAttempts {
		log.ErrorContext(ctx, "giving up pushing the class; run tportal provider reconcile once the portal answers", "err", err)
	} else {
		log.WarnContext(ctx, "catalogue push failed; retrying", "err", err)
	}
	return err
}

// NextRetry backs off with full jitter.
func (w *pushWorker) NextRetry(job *river.Job[pushArgs]) time.Time {
	return w.opts.Now().Add(Backoff(job.Attempt, w.opts.RetryBase, w.opts.RetryMax))
}
