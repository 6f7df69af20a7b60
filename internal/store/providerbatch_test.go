package store

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/errs"
	"github.com/tportal/tportal/internal/sqldb/sqldbtest"
)

// batchFixture is two providers with courses: acme has A and B, beta has C.
func batchFixture(t *testing.T, s *DB) (acme catalog.Provider, courseA catalog.Course) {
	t.Helper()
	ctx := context.Background()
	courses := map[string][]string{"acme": {"A", "B"}, "beta": {"C"}}
	for _, user := range []string{"acme", "beta"} {
		p := catalog.Provider{Name: user, Username: user, PasswordHash: "hash-" + user, CreatedAt: time.Now()}
		if err := s.CreateProvider(ctx, &p); err != nil {
			t.Fatal(err)
		}
		for _, ext := range courses[user] {
			c := catalog.Course{ProviderID: p.ID, ExternalID: ext, Name: ext + " course", CreatedAt: time.Now()}
			if err := s.CreateCourse(ctx, &c); err != nil {
				t.Fatal(err)
			}
			if ext == "A" {
				acme, courseA = p, c
			}
		}
	}
	return acme, courseA
}

// batchKeys are reads of every kind: a course of the provider, another provider's
// course, a missing course, a provider alone, a missing provider.
var batchKeys = []providerKey{
	{username: "acme", course: "A", withCourse: true},
	{username: "beta", course: "C", withCourse: true},
	{username: "acme", course: "B", withCourse: true},
	{username: "beta", course: "A", withCourse: true},
	{username: "acme", course: "none", withCourse: true},
	{username: "nobody", course: "A", withCourse: true},
	{username: "beta"},
	{username: "nobody"},
	{username: "acme"},
}

// A shared statement answers each of its reads as that read's own one-row statement
// does, in the order of its keys.
func TestReadProvidersAnswersEachRead(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, dialect string) {
		if dialect != "postgres" {
			t.Skip("reads are shared on PostgreSQL only")
		}
		s := openNative(t, dialect)
		batchFixture(t, s)
		ctx := context.Background()
		answers := make([]readAnswer[providerResult], len(batchKeys))
		s.readProviders(ctx, batchKeys, answers)
		for i, k := range batchKeys {
			alone, err := s.readProvider(ctx, k)
			got := answers[i]
			if !reflect.DeepEqual(got.v, alone) || errs.Is(got.err, errs.NotFound) != errs.Is(err, errs.NotFound) || (got.err == nil) != (err == nil) {
				t.Errorf("key %+v: shared = %+v, %v; alone = %+v, %v", k, got.v, got.err, alone, err)
			}
		}
		if answers[0].v.c == nil || answers[0].v.c.ExternalID != "A" || !errs.Is(answers[5].err, errs.NotFound) || answers[4].v.c != nil {
			t.Errorf("answers %+v: want acme's course A first, no course for acme/none and NotFound for nobody", answers)
		}
	})
}

// Many concurrent reads of every kind, most of them sharing statements on
// PostgreSQL, each get their own answer.
func TestProviderReadsConcurrent(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, dialect string) {
		s := openNative(t, dialect)
		batchFixture(t, s)
		ctx := context.Background()
		want := make([]string, len(batchKeys))
		for i, k := range batchKeys {
			r, err := s.readProvider(ctx, k)
			want[i] = answerString(r.p, r.c, err)
		}
		var wg sync.WaitGroup
		for g := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := range 60 {
					i := (g + n) % len(batchKeys)
					k := batchKeys[i]
					var got string
					if k.withCourse {
						got = answerString(s.ProviderWithCourse(ctx, k.username, k.course))
					} else {
						p, err := s.ProviderByUsername(ctx, k.username)
						got = answerString(p, nil, err)
					}
					if got != want[i] {
						t.Errorf("read %+v = %s; want %s", k, got, want[i])
						return
					}
				}
			}()
		}
		wg.Wait()
		if s.providerReads.running != 0 || s.providerReads.waiting != nil {
			t.Errorf("after the reads: %d statements running, waiting batch %v; want none", s.providerReads.running, s.providerReads.waiting)
		}
	})
}

func answerString(p catalog.Provider, c *catalog.Course, err error) string {
	if err != nil {
		return fmt.Sprintf("error NotFound=%v", errs.Is(err, errs.NotFound))
	}
	if c == nil {
		return fmt.Sprintf("%d %s no course", p.ID, p.Username)
	}
	return fmt.Sprintf("%d %s course %d %s v%d", p.ID, p.Username, c.ID, c.ExternalID, c.ClassesVersion)
}

// A read sees every write committed before it began, through another instance too,
// while other reads keep shared statements running: a read never takes the answer
// of a statement that started before it.
func TestProviderReadsSeeEarlierWrites(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, dialect string) {
		url := sqldbtest.URL(t, dialect, "tportal")
		ctx := context.Background()
		s, other := openInstance(t, url), openInstance(t, url)
		_, course := batchFixture(t, s)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, _, err := s.ProviderWithCourse(ctx, "acme", "A"); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		defer func() { close(stop); wg.Wait() }()
		for n := range 200 {
			// A version bump as a class write through the other instance makes it.
			if _, err := other.db.ExecContext(ctx, `UPDATE courses SET classes_version = classes_version + 1 WHERE id = $1`, course.ID); err != nil {
				t.Fatal(err)
			}
			want, err := other.ClassesVersion(ctx, course.ID)
			if err != nil {
				t.Fatal(err)
			}
			_, c, err := s.ProviderWithCourse(ctx, "acme", "A")
			if err != nil {
				t.Fatal(err)
			}
			if c == nil || c.ClassesVersion != want {
				t.Fatalf("write %d: read course %+v; want classes version %d", n, c, want)
			}
		}
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}

// openInstance opens the store at url as one more portal instance would, closed
// when the test ends.
func openInstance(t *testing.T, url string) *DB {
	t.Helper()
	s, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
