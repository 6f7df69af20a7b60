package courseprovider

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestAnswerCacheOneBuildPerMiss starts 64 callers that miss the same key and version
// at once: one build serves them all, and the next caller gets the cached answer.
// Without the shared build each caller built its own copy of a large answer, which
// set the peak memory at 64 clients.
func TestAnswerCacheOneBuildPerMiss(t *testing.T) {
	var c answerCache
	var builds atomic.Int32
	release := make(chan struct{})
	build := func(ctx context.Context, sizeHint int) (rawBody, error) {
		builds.Add(1)
		<-release // hold the build until every caller is waiting on it
		return rawBody{contentType: "text/plain", body: []byte("answer v7")}, nil
	}
	const callers = 64
	var wg sync.WaitGroup
	bodies := make([]string, callers)
	for i := range callers {
		wg.Go(func() {
			b, err := c.answer(context.Background(), 1, false, 7, build)
			if err != nil {
				t.Error(err)
			}
			bodies[i] = string(b.body)
		})
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		c.mu.Lock()
		f := c.flights[flightKey{answerKey{1, false}, 7}]
		c.mu.Unlock()
		if f != nil || time.Now().After(deadline) {
			break
		}
	}
	time.Sleep(50 * time.Millisecond) // let the other callers reach the flight
	close(release)
	wg.Wait()
	if n := builds.Load(); n != 1 {
		t.Errorf("%d builds for %d concurrent misses, want 1", n, callers)
	}
	for i, b := range bodies {
		if b != "answer v7" {
			t.Fatalf("caller %d got %q", i, b)
		}
	}
	if _, err := c.answer(context.Background(), 1, false, 7, build); err != nil || builds.Load() != 1 {
		t.Errorf("a call after the build built again (%d builds, %v)", builds.Load(), err)
	}
	// A new version is a new build, which gets the previous answer's length as a hint.
	var hint int
	if _, err := c.answer(context.Background(), 1, false, 8, func(_ context.Context, sizeHint int) (rawBody, error) {
		hint = sizeHint
		return rawBody{body: []byte("answer v8")}, nil
	}); err != nil || hint != len("answer v7") {
		t.Errorf("version 8: hint %d, %v; want %d", hint, err, len("answer v7"))
	}
	if len(c.flights) != 0 {
		t.Errorf("flights left: %v", c.flights)
	}
}

// TestAnswerCacheWaiterLeaves: a caller waiting on another's build stops when its own
// context ends, and a failed build is not cached.
func TestAnswerCacheWaiterLeaves(t *testing.T) {
	var c answerCache
	started, release := make(chan struct{}), make(chan struct{})
	fail := errors.New("database down")
	go func() {
		_, _ = c.answer(context.Background(), 1, true, 3, func(context.Context, int) (rawBody, error) {
			close(started)
			<-release
			return rawBody{}, fail
		})
	}()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := c.answer(ctx, 1, true, 3, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiter: %v, want the deadline", err)
	}
	close(release)
	for c.inFlight() > 0 {
		time.Sleep(time.Millisecond)
	}
	if _, ok := c.get(1, true, 3); ok {
		t.Error("a failed build was cached")
	}
}

func (c *answerCache) inFlight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.flights)
}

// TestAnswerCacheBoundedInBytes fills a cache past its limit: the answers used
// longest ago go first, the size stays within the limit, and an answer larger than
// the limit is still kept alone.
func TestAnswerCacheBoundedInBytes(t *testing.T) {
	c := answerCache{limit: 1000}
	body := func(n int) func(context.Context, int) (rawBody, error) {
		return func(context.Context, int) (rawBody, error) { return rawBody{body: make([]byte, n)}, nil }
	}
	ctx := context.Background()
	for id := range int64(4) { // 4 × 300 bytes: the 4th put drops one
		if _, err := c.answer(ctx, id, false, 1, body(300)); err != nil {
			t.Fatal(err)
		}
		if id == 2 {
			c.get(0, false, 1) // 0 is now used more recently than 1
		}
	}
	cached := func() (ids string) {
		for id := range int64(10) {
			if _, ok := c.get(id, false, 1); ok {
				ids += strconv.FormatInt(id, 10)
			}
		}
		return ids
	}
	if got := cached(); got != "023" || c.size != 900 {
		t.Errorf("cached %q (%d bytes), want 023 (900 bytes)", got, c.size)
	}
	// A new version replaces the old answer's bytes instead of adding to them.
	if _, err := c.answer(ctx, 3, false, 2, body(100)); err != nil || c.size != 700 {
		t.Errorf("after replacing: %d bytes (%v), want 700", c.size, err)
	}
	if _, err := c.answer(ctx, 9, false, 1, body(5000)); err != nil {
		t.Fatal(err)
	}
	if got := cached(); got != "9" || c.size != 5000 {
		t.Errorf("after a large answer: cached %q (%d bytes), want 9 alone", got, c.size)
	}
}
