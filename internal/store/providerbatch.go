package store

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
)

// Shared provider reads for PostgreSQL's course-provider API calls.
//
// Every API call reads its provider (and the course it names, with the course's
// classes version) from the database, so that a rotated password or a class written
// through another instance is seen at once. On PostgreSQL each such read was a
// statement of its own: a round trip and a backend's fixed cost per statement
// (~15–20 µs of the server's CPU for a bare SELECT 1 on this machine, ~40 µs for
// the provider-and-course statement), on the same cores as tportal.
//
// So at most providerReadsRunning of this process's provider reads run at a time;
// those arriving meanwhile wait and then share the next statement (providersSQL),
// each distinct username and course once. A read alone waits for nothing and runs
// the one-row statement as before. Every read's answer comes from a statement that
// started after the read began, so it sees every write committed before it began,
// through any instance: a read never joins a statement already running.
const (
	providerReadsRunning = 2                // statements in flight at once
	providerBatchMax     = 64               // distinct reads per shared statement
	providerBatchTimeout = 30 * time.Second // bounds a shared statement, which no request's context ends
)

// providerReads queues this process's provider reads for shared statements.
type providerReads struct {
	mu      sync.Mutex
	running int            // statements in flight; guarded by mu
	waiting *providerBatch // the batch that runs when one ends, or nil; guarded by mu
}

// providerKey is one read: the provider with the username and, when withCourse,
// its course with the external id.
type providerKey struct {
	username   string
	course     string
	withCourse bool
}

// providerAnswer is a read's outcome.
type providerAnswer struct {
	p   catalog.Provider
	c   *catalog.Course
	err error
}

// providerBatch is the reads that share a statement.
type providerBatch struct {
	keys    []providerKey    // distinct; appended under mu until the batch's turn comes
	reads   int              // the requests it answers, under mu likewise
	answers []providerAnswer // by index of keys, set by the batch's leader before done
	turn    chan struct{}    // closed when the batch may run; nil for one that runs at once
	done    chan struct{}    // closed once every answer is set
}

// read answers k through a statement started after this call began.
func (pr *providerReads) read(ctx context.Context, s *DB, k providerKey) (catalog.Provider, *catalog.Course, error) {
	b, i, lead := pr.join(k)
	switch {
	case b == nil: // the waiting batch is full
		return s.readProvider(ctx, k)
	case !lead:
		select {
		case <-b.done:
			a := b.answers[i]
			return a.p, a.c, a.err
		case <-ctx.Done():
			return catalog.Provider{}, nil, mapErr(ctx.Err(), "provider "+k.username)
		}
	}
	if b.turn != nil {
		<-b.turn // even when ctx ends meanwhile: others may wait for this batch
	}
	defer func() { // even on a panic, or later reads would wait for ever
		pr.finish()
		close(b.done)
	}()
	s.readProviders(ctx, b)
	a := b.answers[0]
	return a.p, a.c, a.err
}

// join queues k: in a batch that runs at once when fewer than providerReadsRunning
// statements are in flight, else in the waiting batch. lead tells that the caller
// runs the batch; a nil batch that the waiting one is full.
func (pr *providerReads) join(k providerKey) (b *providerBatch, i int, lead bool) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if pr.running < providerReadsRunning { // then nothing waits either
		pr.running++
		return &providerBatch{keys: []providerKey{k}, done: make(chan struct{})}, 0, true
	}
	w := pr.waiting
	if w == nil {
		pr.waiting = &providerBatch{keys: []providerKey{k}, reads: 1, turn: make(chan struct{}), done: make(chan struct{})}
		return pr.waiting, 0, true
	}
	for i, o := range w.keys {
		if o == k {
			w.reads++
			return w, i, false
		}
	}
	if len(w.keys) == providerBatchMax {
		return nil, 0, false
	}
	w.reads++
	w.keys = append(w.keys, k)
	return w, len(w.keys) - 1, false
}

// finish hands the ended statement's place to the waiting batch, if any.
func (pr *providerReads) finish() {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if w := pr.waiting; w != nil {
		pr.waiting = nil
		close(w.turn)
		return
	}
	pr.running--
}

// readProviders sets b's answers: a key alone with its one-row statement, several
// with providersSQL. A batch that waited for its turn may answer other requests
// than its leader, so it runs under a context of its own, which no request's end
// cancels.
func (s *DB) readProviders(ctx context.Context, b *providerBatch) {
	b.answers = make([]providerAnswer, len(b.keys))
	for i := range b.answers { // what the others get should this panic
		b.answers[i].err = errs.E(errs.Internal, "store: the shared read of provider %s did not finish", b.keys[i].username)
	}
	if b.turn != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), providerBatchTimeout)
		defer cancel()
	}
	if len(b.keys) == 1 {
		a := &b.answers[0]
		a.p, a.c, a.err = s.readProvider(ctx, b.keys[0])
		return
	}
	users := make([]string, len(b.keys))
	courses := make([]*string, len(b.keys))
	for i, k := range b.keys {
		users[i] = k.username
		if k.withCourse {
			courses[i] = &b.keys[i].course
		}
	}
	found := make([]bool, len(b.keys))
	err := s.readRows(ctx, providersSQL, []any{users, courses}, func(rows pgx.Rows) error {
		var (
			i int64
			r providerRow
		)
		if err := rows.Scan(append([]any{&i}, r.dest()...)...); err != nil {
			return err
		}
		a := &b.answers[i-1]
		a.p, a.c = r.result()
		a.err = nil
		found[i-1] = true
		return nil
	})
	for i, k := range b.keys {
		switch {
		case err != nil:
			b.answers[i] = providerAnswer{err: mapErr(err, "provider "+k.username)}
		case !found[i]:
			b.answers[i] = providerAnswer{err: mapErr(sql.ErrNoRows, "provider "+k.username)}
		}
	}
}

// providersSQL reads several providers, each with the course named beside it (none
// for a NULL name), by the 1-based position of its username in $1 and its course's
// in $2. Each lookup is a LATERAL subquery with a LIMIT, which PostgreSQL runs per
// key through the unique indexes whatever its statistics say; the arrays come
// through sub-SELECTs, so that the plan does not depend on their values and stays
// the cached generic one (with the values in sight, PostgreSQL plans anew on every
// execution, which costs more than the statement).
var providersSQL = `SELECT k.i, p.id, p.name, p.username, p.password_hash, p.reserve_url, p.cancel_url, p.secret, p.created_at, p.courses_version,
		co.id, co.provider_id, co.external_id, co.name, co.description, co.created_at, co.version
	FROM unnest((SELECT $1::text[]), (SELECT $2::text[])) WITH ORDINALITY AS k(username, course, i)
	JOIN LATERAL (SELECT ` + providerColumns + ` FROM providers WHERE username = k.username LIMIT 1) p ON true
	LEFT JOIN LATERAL (SELECT co.id, co.provider_id, co.external_id, co.name, co.description, co.created_at, ` + classesVersionOf("co") + ` AS version
		FROM courses co WHERE co.provider_id = p.id AND co.external_id = k.course LIMIT 1) co ON true`
