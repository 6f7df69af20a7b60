package store

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/auth"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/sqldb/sqldbtest"
)

// fakeReads is a kind of read for sharedReads without a database: the answer to
// key k is its statement's number and k, and each statement's keys are recorded.
type fakeReads struct {
	mu         sync.Mutex
	statements [][]string
	release    chan struct{} // when not nil, each statement waits for a value of it
}

func (f *fakeReads) start(keys []string) int {
	f.mu.Lock()
	f.statements = append(f.statements, slices.Clone(keys))
	n := len(f.statements)
	f.mu.Unlock()
	if f.release != nil {
		<-f.release
	}
	return n
}

func (f *fakeReads) one(_ context.Context, k string) (string, error) {
	n := f.start([]string{k})
	if k == "missing" {
		return "", errs.E(errs.NotFound, "no %s", k)
	}
	return fmt.Sprintf("%d:%s", n, k), nil
}

func (f *fakeReads) many(_ context.Context, keys []string, answers []readAnswer[string]) {
	n := f.start(keys)
	for i, k := range keys {
		answers[i] = readAnswer[string]{v: fmt.Sprintf("%d:%s", n, k)}
		if k == "missing" {
			answers[i] = readAnswer[string]{err: errs.E(errs.NotFound, "no %s", k)}
		}
	}
}

// Reads arriving while sharedReadsRunning statements run wait for one of them to
// end, never join them, and then share one statement, each distinct key once; each
// gets its own key's answer from that statement.
func TestSharedReadsWaitAndShare(t *testing.T) {
	f := &fakeReads{release: make(chan struct{})}
	var sr sharedReads[string, string]
	type answer struct {
		key, v string
		err    error
	}
	answers := make(chan answer, 16)
	read := func(k string) {
		v, err := sr.read(context.Background(), k, f.one, f.many)
		answers <- answer{k, v, err}
	}
	statements := func() int {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.statements)
	}
	for _, k := range []string{"a", "b"} { // fill the statements in flight
		go read(k)
	}
	waitFor(t, func() bool { return statements() == sharedReadsRunning })
	keys := []string{"a", "c", "a", "missing", "c", "a"}
	for _, k := range keys {
		go read(k)
	}
	waitFor(t, func() bool {
		sr.mu.Lock()
		defer sr.mu.Unlock()
		// Every read joined, not only each distinct key's first: a read joining after
		// the batch's turn came would start a fourth statement, which nothing releases.
		return sr.waiting != nil && sr.waiting.reads == len(keys)
	})
	if n := statements(); n != sharedReadsRunning {
		t.Fatalf("%d statements started while %d ran; want none more", n-sharedReadsRunning, sharedReadsRunning)
	}
	f.release <- struct{}{} // the first statement ends: the waiting batch runs
	f.release <- struct{}{}
	f.release <- struct{}{}
	got := map[string]int{}
	for range 2 + len(keys) {
		a := <-answers
		switch {
		case a.key == "missing":
			if !errs.Is(a.err, errs.NotFound) {
				t.Errorf("read of a missing key = %q, %v; want NotFound", a.v, a.err)
			}
		case a.err != nil || a.v[2:] != a.key:
			t.Errorf("read of %q = %q, %v; want its own answer", a.key, a.v, a.err)
		default:
			got[a.v]++
		}
	}
	// The readers queue in the order the scheduler runs them.
	shared := slices.Sorted(slices.Values(f.statements[2]))
	if want := []string{"a", "c", "missing"}; !reflect.DeepEqual(shared, want) {
		t.Errorf("shared statement's keys = %q; want %q in any order, each once", f.statements[2], want)
	}
	if got["3:a"] != 3 || got["3:c"] != 2 {
		t.Errorf("answers %v; want a's three reads and c's two from the shared statement (3)", got)
	}
	if sr.running != 0 || sr.waiting != nil {
		t.Errorf("after the reads: %d running, waiting %v; want none", sr.running, sr.waiting)
	}
}

// A read whose context ends while it waits returns at once; the statement it waited
// for still answers the others, even when its leader's context ended too.
func TestSharedReadsWaiterCancelled(t *testing.T) {
	f := &fakeReads{}
	var sr sharedReads[string, string]
	for range sharedReadsRunning { // fill the statements in flight
		if _, _, lead := sr.join("x"); !lead {
			t.Fatal("a read with nothing in flight does not run at once")
		}
	}
	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	leader := make(chan error, 1)
	go func() {
		_, err := sr.read(leaderCtx, "a", f.one, f.many)
		leader <- err
	}()
	waitFor(t, func() bool { sr.mu.Lock(); defer sr.mu.Unlock(); return sr.waiting != nil })
	same := make(chan error, 1)
	var v atomic.Value
	go func() {
		got, err := sr.read(context.Background(), "a", f.one, f.many)
		v.Store(got)
		same <- err
	}()
	goneCtx, cancelGone := context.WithCancel(context.Background())
	gone := make(chan error, 1)
	go func() {
		_, err := sr.read(goneCtx, "b", f.one, f.many)
		gone <- err
	}()
	waitFor(t, func() bool { sr.mu.Lock(); defer sr.mu.Unlock(); return len(sr.waiting.keys) == 2 })
	cancelGone()
	select {
	case err := <-gone:
		if err == nil {
			t.Error("a read cancelled while waiting succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a read cancelled while waiting did not return")
	}
	cancelLeader()
	sr.finish()
	sr.finish()
	<-leader
	if err := <-same; err != nil || v.Load() != "1:a" {
		t.Errorf("a read sharing a cancelled leader's statement = %v, %v; want 1:a", v.Load(), err)
	}
}

// The shared token and class statements answer each key as its one-row statement
// does, unknown keys included.
func TestReadTokensAndClassesAnswerEachRead(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, dialect string) {
		if dialect != "postgres" {
			t.Skip("reads are shared on PostgreSQL only")
		}
		s := openNative(t, dialect)
		ctx := context.Background()
		classes := sharedReadsFixture(t, s)
		hashes := []string{"hash-2", "hash-missing", "hash-1", "hash-2"[:6] + "x"}
		tokens := make([]readAnswer[auth.Token], len(hashes))
		s.readTokens(ctx, hashes, tokens)
		for i, h := range hashes {
			tk, err := s.readToken(ctx, h)
			if got := tokens[i]; err == nil && !reflect.DeepEqual(got.v, tk) || errs.Is(got.err, errs.NotFound) != errs.Is(err, errs.NotFound) || (got.err == nil) != (err == nil) {
				t.Errorf("token %q: shared = %+v, %v; alone = %+v, %v", h, got.v, got.err, tk, err)
			}
		}
		if tokens[0].err != nil || tokens[0].v.Name != "two" || !errs.Is(tokens[1].err, errs.NotFound) {
			t.Errorf("tokens %+v: want token two first, then NotFound", tokens)
		}
		ids := append(slices.Clone(classes), classes[len(classes)-1]+1000)
		slices.Reverse(ids)
		answers := make([]readAnswer[classToBook], len(ids))
		s.readClassesToBook(ctx, ids, answers)
		for i, id := range ids {
			c, err := s.readClassToBook(ctx, id)
			if got := answers[i]; err == nil && !reflect.DeepEqual(got.v, c) || errs.Is(got.err, errs.NotFound) != errs.Is(err, errs.NotFound) || (got.err == nil) != (err == nil) {
				t.Errorf("class %d: shared = %+v, %v; alone = %+v, %v", id, got.v, got.err, c, err)
			}
		}
		if !errs.Is(answers[0].err, errs.NotFound) || answers[1].v.class.ID != ids[1] || answers[1].v.provider.Username != "beta" {
			t.Errorf("classes %+v: want NotFound first, then class %d of beta", answers, ids[1])
		}
	})
}

// sharedReadsFixture stores tokens one and two (hashes hash-1, hash-2) and classes
// of two providers' courses, and returns the classes' ids.
func sharedReadsFixture(t *testing.T, s *DB) []int64 {
	t.Helper()
	ctx := context.Background()
	for i, name := range []string{"one", "two"} {
		if _, err := s.CreateToken(ctx, name, fmt.Sprintf("hash-%d", i+1), nil); err != nil {
			t.Fatal(err)
		}
	}
	var ids []int64
	for _, user := range []string{"acme", "beta"} {
		p := catalog.Provider{Name: user, Username: user, PasswordHash: "hash-" + user, ReserveURL: "https://" + user + ".example/reserve", CreatedAt: time.Now()}
		if err := s.CreateProvider(ctx, &p); err != nil {
			t.Fatal(err)
		}
		co := catalog.Course{ProviderID: p.ID, ExternalID: "C-" + user, Name: "Course of " + user, CreatedAt: time.Now()}
		if err := s.CreateCourse(ctx, &co); err != nil {
			t.Fatal(err)
		}
		for _, ext := range []string{"W1", "W2"} {
			cl := testClass(t, co, ext)
			if err := s.CreateClass(ctx, &cl); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, cl.ID)
		}
	}
	return ids
}

// Concurrent token and class reads, sharing statements on PostgreSQL, each get
// their own key's answer, and a read sees a revocation or a cancellation committed
// through another instance before it began, while other reads keep shared
// statements running.
func TestSharedReadsConcurrentAndFresh(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, dialect string) {
		url := sqldbtest.URL(t, dialect, "tportal")
		ctx := context.Background()
		s, other := openInstance(t, url), openInstance(t, url)
		ids := sharedReadsFixture(t, s)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for g := range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					id := ids[(g+n)%len(ids)]
					if c, _, _, err := s.ClassToBook(ctx, id); err != nil || c.ID != id {
						t.Errorf("ClassToBook(%d) = class %d, %v", id, c.ID, err)
						return
					}
					h := fmt.Sprintf("hash-%d", 1+(g+n)%2)
					if tk, err := s.TokenByHash(ctx, h); err != nil || "hash-"+map[string]string{"one": "1", "two": "2"}[tk.Name] != h {
						t.Errorf("TokenByHash(%s) = %+v, %v", h, tk, err)
						return
					}
				}
			}()
		}
		defer func() { close(stop); wg.Wait() }()
		for n := range 100 {
			at := time.UnixMilli(int64(1_700_000_000_000 + n*1000)).UTC()
			if _, err := other.db.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE token_hash = 'hash-1'`, millis(at)); err != nil {
				t.Fatal(err)
			}
			if _, err := other.db.ExecContext(ctx, `UPDATE classes SET cancelled_at = $1 WHERE id = $2`, millis(at), ids[0]); err != nil {
				t.Fatal(err)
			}
			tk, err := s.TokenByHash(ctx, "hash-1")
			if err != nil || tk.RevokedAt == nil || !tk.RevokedAt.Equal(at) {
				t.Fatalf("write %d: token read = %+v, %v; want revoked at %v", n, tk.RevokedAt, err, at)
			}
			c, _, _, err := s.ClassToBook(ctx, ids[0])
			if err != nil || c.CancelledAt == nil || !c.CancelledAt.Equal(at) {
				t.Fatalf("write %d: class read = %+v, %v; want cancelled at %v", n, c.CancelledAt, err, at)
			}
		}
	})
}

func testClass(t *testing.T, co catalog.Course, ext string) catalog.Class {
	t.Helper()
	p := func(s string) *string { return &s }
	cl, err := catalog.NewClass(co, catalog.ClassFields{
		ExternalID: p(ext), Location: p("Oslo"), AvailableSeats: p("10"),
		EnrollmentDeadline: p("2030-09-20"), CancellationDeadline: p("2030-09-25"),
		StartDate: p("2030-10-01"), StartTime: p("09:00"), EndDate: p("2030-10-01"), EndTime: p("16:00"),
		AddressLine1: p("Street 1"), ZipCode: p("0150"), City: p("Oslo"), Country: p("NO"), Currency: p("EUR"), Amount: p("99.95"), SendScheduleInfo: p("false"),
	}, "Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	cl.CreatedAt, cl.UpdatedAt = time.Now().UTC().Truncate(time.Millisecond), time.Now().UTC().Truncate(time.Millisecond)
	return cl
}

// A token or class read made in the store's transaction runs in it, unshared (it
// waits for no shared statement, even when others run), and so sees its
// uncommitted writes.
func TestSharedReadsJoinTransaction(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, dialect string) {
		s := openNative(t, dialect)
		ctx := context.Background()
		ids := sharedReadsFixture(t, s)
		for range sharedReadsRunning { // shared statements in flight: a shared read would wait
			s.tokenReads.join("x")
			s.classReads.join(-1)
		}
		defer func() {
			for range sharedReadsRunning {
				s.tokenReads.finish()
				s.classReads.finish()
			}
		}()
		done := make(chan error, 1)
		go func() {
			done <- s.tx(ctx, func(tx *sql.Tx) error {
				if _, err := s.in(tx).ExecContext(ctx, `INSERT INTO api_tokens (name, token_hash, created_at) VALUES ('late', 'hash-late', 0)`); err != nil {
					return err
				}
				if _, err := s.in(tx).ExecContext(ctx, `UPDATE classes SET cancelled_at = 1000 WHERE id = $1`, ids[0]); err != nil {
					return err
				}
				in := s.withTx(ctx, tx)
				if tk, err := s.TokenByHash(in, "hash-late"); err != nil || tk.Name != "late" {
					t.Errorf("TokenByHash in the transaction = %+v, %v; want token late", tk, err)
				}
				if c, _, _, err := s.ClassToBook(in, ids[0]); err != nil || c.CancelledAt == nil {
					t.Errorf("ClassToBook in the transaction = %+v, %v; want the class cancelled", c.CancelledAt, err)
				}
				return nil
			})
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("reads in a transaction waited for the shared statements")
		}
	})
}
