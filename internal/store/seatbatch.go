package store

import (
	"context"
	"sync"
	"time"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
)

// Shared seat statements for PostgreSQL's bookings.
//
// Bookings of one class queue on its row's lock, and each holds it for its statement
// and its commit's WAL flush, so one class took at most one booking per flush. So
// this process's bookings of a class go through one statement at a time: the first
// runs at once, alone; those arriving while it runs wait (as they would have waited
// for the lock) and then share the next statement (takeSeatsAndInsert), which takes
// all their seats and inserts all their bookings with one lock hold and one flush.
// A booking alone waits for nothing.
//
// The guarantees are one statement's: its bookings are all committed or none is, and
// each request learns the outcome only once it is known. When a shared statement
// takes no seat (fewer seats left than its requests, or the class deleted) or fails
// (say, one request's idempotency key is taken), each of its requests runs alone, as
// if none had been shared, and gets its own outcome. A request's check and any undoing
// run in its own goroutine afterwards (createBookingAtOnce). Other processes, and
// other classes, do not wait for these statements.
const (
	seatBatchMax     = 32               // requests per statement
	seatBatchTimeout = 30 * time.Second // bounds a shared statement, which no request's context ends
)

// seatBatches queues each class's bookings for their shared statements.
type seatBatches struct {
	mu      sync.Mutex
	classes map[int64][]*seatBatch // per class with a statement running, the batches waiting for it, in order; guarded by mu
}

// seatBatch is the requests that share a statement.
type seatBatch struct {
	requests []*seatRequest // appended under mu until the batch's turn comes
	turn     chan struct{}  // closed when its first request may run it; nil for a batch that runs at once
	done     chan struct{}  // closed once every request's outcome is set
}

// seatRequest is one booking's request for a seat, and its outcome.
type seatRequest struct {
	ctx   context.Context
	b     *booking.Booking
	taken bool          // the seat was taken and b inserted, with b.ID set
	class catalog.Class // when taken, the class as it was before this seat, for check
	alone bool          // the shared statement took nothing: run on its own
	err   error
}

// book sets r's outcome through a shared statement, or sets r.alone.
func (sb *seatBatches) book(s *DB, r *seatRequest) {
	bt, lead := sb.join(r)
	if !lead {
		<-bt.done
		return
	}
	if bt.turn != nil {
		<-bt.turn
	}
	defer func() { // even on a panic, or the class's later bookings would wait for ever
		sb.next(r.b.ClassID)
		close(bt.done)
	}()
	var run []*seatRequest
	for _, o := range bt.requests {
		if err := o.ctx.Err(); err != nil {
			o.err = mapErr(err, "take a seat") // gone before its statement: nothing to undo
		} else {
			run = append(run, o)
		}
	}
	if len(run) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), seatBatchTimeout)
		err := s.takeSeats(ctx, run)
		cancel()
		switch {
		case len(run) == 1:
			run[0].err = err
		case err != nil || !run[0].taken:
			for _, o := range run {
				o.alone, o.taken = true, false
			}
		}
	}
}

// join queues r for its class's next statement; lead tells that r runs it.
func (sb *seatBatches) join(r *seatRequest) (bt *seatBatch, lead bool) {
	id := r.b.ClassID
	sb.mu.Lock()
	defer sb.mu.Unlock()
	waiting, busy := sb.classes[id]
	if !busy {
		if sb.classes == nil {
			sb.classes = map[int64][]*seatBatch{}
		}
		sb.classes[id] = nil
		return &seatBatch{requests: []*seatRequest{r}, done: make(chan struct{})}, true
	}
	if n := len(waiting); n > 0 && len(waiting[n-1].requests) < seatBatchMax {
		last := waiting[n-1]
		last.requests = append(last.requests, r)
		return last, false
	}
	bt = &seatBatch{requests: []*seatRequest{r}, turn: make(chan struct{}), done: make(chan struct{})}
	sb.classes[id] = append(waiting, bt)
	return bt, true
}

// next gives the class's statement to the batch waiting first, or frees the class.
func (sb *seatBatches) next(id int64) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	waiting := sb.classes[id]
	if len(waiting) == 0 {
		delete(sb.classes, id)
		return
	}
	sb.classes[id] = waiting[1:]
	close(waiting[0].turn)
}
