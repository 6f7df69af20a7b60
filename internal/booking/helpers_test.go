package booking_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/mail"
	"github.com/tportal/tportal/internal/providercall"
	"github.com/tportal/tportal/internal/store"
	"github.com/tportal/tportal/internal/store/storetest"
)

// zone is the default time zone of the test catalogue and of its classes.
const zone = "Europe/Oslo"

// clock is a settable clock: real time shifted by an offset, safe for concurrent use.
type clock struct{ off atomic.Int64 }

func (c *clock) Now() time.Time           { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) Advance(d time.Duration)  { c.off.Add(int64(d)) }
func (c *clock) Set(offset time.Duration) { c.off.Store(int64(offset)) }
func mustZone() *time.Location            { l, _ := time.LoadLocation(zone); return l }
func ptr(s string) *string                { return &s }
func daysFromToday(n int) string {
	return catalog.DateOf(time.Now().In(mustZone()).AddDate(0, 0, n)).String()
}
func noErr(tb testing.TB, err error, what string) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
}

// env is one portal instance: a store, the catalogue and the booking engine wired as
// `tportal serve` wires them, with the real provider HTTP client.
type env struct {
	db       *store.DB
	cat      *catalog.Service
	svc      *booking.Service
	catClock *clock
	clock    *clock // the booking engine's clock
}

// newEnv opens a fresh database of the dialect and wires a portal on it.
func newEnv(tb testing.TB, dialect string, timeout time.Duration) *env {
	tb.Helper()
	db, err := store.Open(context.Background(), storetest.URL(tb, dialect))
	noErr(tb, err, "open store")
	tb.Cleanup(func() { db.Close() })
	return wire(db, timeout)
}

// openTwice opens the same fresh database with two independent pools, as two
// `tportal serve` processes sharing one PostgreSQL would.
func openTwice(tb testing.TB, dialect string, timeout time.Duration) (*env, *env) {
	tb.Helper()
	u := storetest.URL(tb, dialect)
	var out [2]*env
	for i := range out {
		db, err := store.Open(context.Background(), u)
		noErr(tb, err, "open store")
		tb.Cleanup(func() { db.Close() })
		out[i] = wire(db, timeout)
	}
	return out[0], out[1]
}

func wire(db *store.DB, timeout time.Duration) *env {
	e := &env{db: db, catClock: &clock{}, clock: &clock{}}
	client := providercall.New(providercall.Options{AllowPrivateURLs: true, Timeout: timeout, ConnectTimeout: timeout, Journal: db})
	e.svc = &booking.Service{Store: db, Caller: providercall.BookingCaller{Client: client}, Now: e.clock.Now, CallTimeout: timeout,
		Mail: &mail.Composer{PublicURL: "https://portal.example", From: "noreply@portal.example", Now: e.clock.Now}}
	e.cat = &catalog.Service{
		Store: db, DefaultZone: zone, Now: e.catClock.Now,
		CheckURL: func(kind, u string) error {
			if err := providercall.CheckTemplate(providercall.Kind(kind), u, true); err != nil {
				return errors.New(providercall.Reason(err))
			}
			return nil
		},
		ClassCancelled: e.svc.NotifyClassCancelled,
		ClassUpdated:   e.svc.NotifyClassUpdated,
		ClassRestored:  e.svc.NotifyClassRestored,
	}
	return e
}

// addProvider creates a provider whose reserve and cancel URLs point at fp, with one
// course "COURSE-<username>".
func (e *env) addProvider(tb testing.TB, username string, fp *fakeProvider) (catalog.Provider, catalog.Course) {
	tb.Helper()
	ctx := context.Background()
	p := catalog.Provider{Name: "Provider " + username, Username: username, PasswordHash: "x"}
	if fp != nil {
		p.ReserveURL, p.CancelURL = fp.URL+"/reserve", fp.URL+"/cancel"
	}
	p, err := e.cat.AddProvider(ctx, p)
	noErr(tb, err, "AddProvider")
	co, err := e.cat.AddCourse(ctx, username, catalog.Course{ExternalID: "COURSE-" + username, Name: "Course of " + username})
	noErr(tb, err, "AddCourse")
	return p, co
}

// classFields are valid addClass fields: enrollment closes in 20 days, cancellation
// in 25, the class runs in 30.
func classFields(ext string, seats int) catalog.ClassFields {
	return catalog.ClassFields{
		ExternalID: ptr(ext), Location: ptr("Oslo"), AvailableSeats: ptr(fmt.Sprint(seats)),
		EnrollmentDeadline: ptr(daysFromToday(20)), CancellationDeadline: ptr(daysFromToday(25)),
		StartDate: ptr(daysFromToday(30)), StartTime: ptr("09:00"), EndDate: ptr(daysFromToday(30)), EndTime: ptr("16:00"),
		AddressLine1: ptr("Street 1"), City: ptr("Oslo"), ZipCode: ptr("0150"), Country: ptr("NO"),
		Currency: ptr("NOK"), Amount: ptr("1000"),
	}
}

func (e *env) addClass(tb testing.TB, p catalog.Provider, co catalog.Course, ext string, seats int) catalog.Class {
	tb.Helper()
	c, err := e.cat.AddClass(context.Background(), p, co.ExternalID, classFields(ext, seats))
	noErr(tb, err, "AddClass "+ext)
	return c
}

// seats reads the class's availableSeats from the store.
func (e *env) seats(tb testing.TB, classID int64) int {
	tb.Helper()
	c, err := e.db.ClassByID(context.Background(), classID)
	noErr(tb, err, "ClassByID")
	return c.AvailableSeats
}

// get reads a booking back from the store.
func (e *env) get(tb testing.TB, ref string) booking.Booking {
	tb.Helper()
	b, err := e.svc.Get(context.Background(), ref)
	noErr(tb, err, "Get "+ref)
	return b
}

// request is a complete booking request for the class.
func request(classID int64, student string) booking.Request {
	return booking.Request{
		ClassID:          classID,
		Student:          booking.Person{FirstName: student, LastName: "Nordmann", Email: "ola@example.com", Phone: "+4711111111"},
		StudentBirthDate: "1990-05-17",
		Enroller:         booking.Person{FirstName: "Kari", LastName: "Hansen", Email: "kari@example.com", Phone: "+4722222222"},
		Company:          "Fjord & Co",
	}
}

// fakeProvider is a real HTTP server playing a course provider: /reserve and /cancel,
// each with a replaceable handler, recording every request's query.
type fakeProvider struct {
	*httptest.Server
	mu       sync.Mutex
	reserveH http.HandlerFunc
	cancelH  http.HandlerFunc
	reserves []url.Values
	cancels  []url.Values
	done     chan struct{} // closed at cleanup, to release held connections
}

func newFakeProvider(tb testing.TB) *fakeProvider {
	tb.Helper()
	fp := &fakeProvider{done: make(chan struct{})}
	fp.Server = httptest.NewServer(fp)
	tb.Cleanup(func() {
		close(fp.done)
		fp.Server.Close()
	})
	return fp
}

func (fp *fakeProvider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fp.mu.Lock()
	var h http.HandlerFunc
	switch r.URL.Path {
	case "/reserve":
		fp.reserves = append(fp.reserves, r.URL.Query())
		h = fp.reserveH
	case "/cancel":
		fp.cancels = append(fp.cancels, r.URL.Query())
		h = fp.cancelH
	}
	fp.mu.Unlock()
	if h == nil {
		http.NotFound(w, r)
		return
	}
	h(w, r)
}

func (fp *fakeProvider) onReserve(h http.HandlerFunc) {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	fp.reserveH = h
}

func (fp *fakeProvider) onCancel(h http.HandlerFunc) {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	fp.cancelH = h
}

func (fp *fakeProvider) reserveCalls() []url.Values {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	return append([]url.Values(nil), fp.reserves...)
}

func (fp *fakeProvider) cancelCalls() []url.Values {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	return append([]url.Values(nil), fp.cancels...)
}

// answer writes a fixed body with a content type.
func answer(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

func jsonAnswer(body string) http.HandlerFunc { return answer(http.StatusOK, "application/json", body) }

// hold hijacks the connection and never answers, until the test ends.
func (fp *fakeProvider) hold(w http.ResponseWriter, r *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	<-fp.done
	conn.Close()
}

// TestMain silences the default logger: the store logs every migration it applies,
// once per fresh database, which buries the test and benchmark output.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}
