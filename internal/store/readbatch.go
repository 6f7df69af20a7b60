package store

import (
	"context"
	"sync"
	"time"

	"github.com/tportal/tportal/internal/errs"
)

// Shared one-row reads for PostgreSQL: the API token's (TokenByHash) and the class's
// (ClassToBook), which every booking reads before it writes, and the provider's
// (providerbatch.go), which every course-provider API call reads.
//
// Each was a statement of its own: a round trip, and a backend's fixed cost per
// statement (protocol, snapshot, executor start and end, the socket's syscalls), on
// the same cores as tportal; at 16 concurrent bookings of one class through one token
// they are the same two rows read again and again. So at most sharedReadsRunning of
// this process's reads of one kind run at a time; those arriving meanwhile wait and
// then share the next statement, each distinct key once. A read alone waits for nothing and runs its
// one-row statement as before; a shared statement of one distinct key (the usual
// case: one class, one token) is that same one-row statement too.
//
// Every read's answer comes from a statement that started after the read began, so
// it sees every write committed before it began, through any instance (a token
// revoked, a class cancelled): a read never joins a statement already running.
const (
	sharedReadsRunning = 2                // statements of one kind in flight at once
	sharedReadsMax     = 64               // distinct keys per shared statement
	sharedReadsTimeout = 30 * time.Second // bounds a shared statement, which no request's context ends
)

// sharedReads queues this process's reads of one kind of row, by key K, for shared
// statements.
type sharedReads[K comparable, V any] struct {
	mu      sync.Mutex
	running int              // statements in flight; guarded by mu
	waiting *readBatch[K, V] // the batch that runs when one ends, or nil; guarded by mu
}

// readAnswer is a read's outcome.
type readAnswer[V any] struct {
	v   V
	err error
}

// readBatch is the reads that share a statement.
type readBatch[K comparable, V any] struct {
	keys    []K             // distinct; appended under mu until the batch's turn comes
	reads   int             // reads it answers, a key's repeats included; guarded by mu
	answers []readAnswer[V] // by index of keys, set by the batch's leader before done
	turn    chan struct{}   // closed when the batch may run; nil for one that runs at once
	done    chan struct{}   // closed once every answer is set
}

// readOne reads one key on its own.
type readOne[K comparable, V any] func(ctx context.Context, k K) (V, error)

// readMany reads several keys with one statement and sets every answer.
type readMany[K comparable, V any] func(ctx context.Context, keys []K, answers []readAnswer[V])

// read answers k through a statement started after this call began: one's, or
// many's when others share it. Every read of sr passes the same functions.
func (sr *sharedReads[K, V]) read(ctx context.Context, k K, one readOne[K, V], many readMany[K, V]) (V, error) {
	b, i, lead := sr.join(k)
	switch {
	case b == nil: // the waiting batch is full
		return one(ctx, k)
	case !lead:
		select {
		case <-b.done:
			a := b.answers[i]
			return a.v, a.err
		case <-ctx.Done():
			var zero V
			return zero, mapErr(ctx.Err(), "read")
		}
	}
	if b.turn != nil {
		<-b.turn // even when ctx ends meanwhile: others may wait for this batch
	}
	defer func() { // even on a panic, or later reads would wait for ever
		sr.finish()
		close(b.done)
	}()
	sr.run(ctx, b, one, many)
	a := b.answers[0]
	return a.v, a.err
}

// join queues k: in a batch that runs at once when fewer than sharedReadsRunning
// statements are in flight, else in the waiting batch. lead tells that the caller
// runs the batch; a nil batch that the waiting one is full.
func (sr *sharedReads[K, V]) join(k K) (b *readBatch[K, V], i int, lead bool) {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	if sr.running < sharedReadsRunning { // then nothing waits either
		sr.running++
		return &readBatch[K, V]{keys: []K{k}, reads: 1, done: make(chan struct{})}, 0, true
	}
	w := sr.waiting
	if w == nil {
		sr.waiting = &readBatch[K, V]{keys: []K{k}, reads: 1, turn: make(chan struct{}), done: make(chan struct{})}
		return sr.waiting, 0, true
	}
	for i, o := range w.keys {
		if o == k {
			w.reads++
			return w, i, false
		}
	}
	if len(w.keys) == sharedReadsMax {
		return nil, 0, false
	}
	w.reads++
	w.keys = append(w.keys, k)
	return w, len(w.keys) - 1, false
}

// finish hands the ended statement's place to the waiting batch, if any.
func (sr *sharedReads[K, V]) finish() {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	if w := sr.waiting; w != nil {
		sr.waiting = nil
		close(w.turn)
		return
	}
	sr.running--
}

// run sets b's answers: a key alone with one, several with many. A batch that
// waited for its turn may answer other requests than its leader, so it runs under a
// context of its own, which no request's end cancels.
func (sr *sharedReads[K, V]) run(ctx context.Context, b *readBatch[K, V], one readOne[K, V], many readMany[K, V]) {
	b.answers = make([]readAnswer[V], len(b.keys))
	for i := range b.answers { // what the others get should this panic
		b.answers[i].err = errs.E(errs.Internal, "store: a shared read did not finish")
	}
	if b.turn != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), sharedReadsTimeout)
		defer cancel()
	}
	if len(b.keys) == 1 {
		a := &b.answers[0]
		a.v, a.err = one(ctx, b.keys[0])
		return
	}
	many(ctx, b.keys, b.answers)
}
