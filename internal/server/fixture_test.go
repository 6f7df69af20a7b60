package server_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/api/courseprovider"
	"github.com/tportal/tportal/internal/api/portal"
	"github.com/tportal/tportal/internal/auth"
	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/providercall"
	"github.com/tportal/tportal/internal/server"
	"github.com/tportal/tportal/internal/store"
	"github.com/tportal/tportal/internal/store/storetest"
	"golang.org/x/crypto/bcrypt"
)

func TestMain(m *testing.M) {
	auth.BcryptCost = bcrypt.MinCost // the race detector makes default-cost hashes take a second each
	os.Exit(m.Run())
}

// day returns today plus n days as yyyy-MM-dd.
func day(n int) string { return time.Now().AddDate(0, 0, n).Format("2006-01-02") }

// fixture is the whole portal (both APIs, server.Handler) over a real database, with
// provider acme (course BST, classes W40 and T011), a booking on W40 with a PDF
// document, and an API token. Provider acme's reserve and cancel URLs are a real
// HTTP server that always says yes.
type fixture struct {
	t       testing.TB
	db      *store.DB
	h       http.Handler
	creds   url.Values // acme's username and password
	token   string
	classID int64  // the portal id of class W40
	ref     string // the booking on W40
	docID   int64
}

func newFixture(t testing.TB, dialect string) *fixture {
	t.Helper()
	ctx := context.Background()
	reserver := http.NewServeMux()
	reserver.HandleFunc("/reserve", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"successful": true, "bookingReference": "P-%s"}`, r.URL.Query().Get("externalCourseClassId"))
	})
	reserver.HandleFunc("/cancel", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"cancelled": true, "errorMessage": ""}`)
	})
	provider := httptest.NewServer(reserver)
	t.Cleanup(provider.Close)

	f := &fixture{t: t, db: storetest.Open(t, dialect)}
	cat := &catalog.Service{Store: f.db, DefaultZone: "Europe/Oslo"}
	password, hash, err := auth.NewPassword()
	if err != nil {
		t.Fatal(err)
	}
	acme, err := cat.AddProvider(ctx, catalog.Provider{Name: "Acme Safety AS", Username: "acme", PasswordHash: hash,
		ReserveURL: provider.URL + "/reserve", CancelURL: provider.URL + "/cancel"})
	if err != nil {
		t.Fatal(err)
	}
	f.creds = url.Values{"username": {"acme"}, "password": {password}}
	if _, err := cat.AddCourse(ctx, "acme", catalog.Course{Name: "Basic Safety", ExternalID: "BST", Description: "GWO"}); err != nil {
		t.Fatal(err)
	}
	ptr := func(s string) *string { return &s }
	for _, ext := range []string{"W40", "T011"} {
		c, err := cat.AddClass(ctx, acme, "BST", catalog.ClassFields{
			ExternalID: ptr(ext), Location: ptr("Oslo"), AvailableSeats: ptr("12"),
			EnrollmentDeadline: ptr(day(30)), CancellationDeadline: ptr(day(40)),
			StartDate: ptr(day(60)), StartTime: ptr("09:00"), EndDate: ptr(day(62)), EndTime: ptr("15:30"),
			AddressLine1: ptr("Karl Johans gate 1"), City: ptr("Oslo"), ZipCode: ptr("0154"), Country: ptr("NO"),
			Currency: ptr("NOK"), Amount: ptr("12500.50"),
		})
		if err != nil {
			t.Fatal(err)
		}
		if ext == "W40" {
			f.classID = c.ID
		}
	}
	bookings := &booking.Service{Store: f.db, Caller: providercall.BookingCaller{
		Client: providercall.New(providercall.Options{AllowPrivateURLs: true, Timeout: 2 * time.Second})}}
	b, err := bookings.Book(ctx, booking.Request{ClassID: f.classID,
		Student:  booking.Person{FirstName: "Kari", LastName: "Nordmann", Email: "kari@example.no"},
		Enroller: booking.Person{FirstName: "Ola", LastName: "Nordmann", Email: "ola@example.no"}, Company: "Acme"})
	if err != nil || b.State != booking.Reserved {
		t.Fatalf("book: %v (%s)", err, b.State)
	}
	f.ref = b.Reference
	d, err := bookings.AddDocument(ctx, acme, b.Reference, "", "Kursbevis Åse «2026».pdf", []byte("%PDF-1.4\n%%EOF\n"))
	if err != nil {
		t.Fatal(err)
	}
	f.docID = d.ID
	token, tokenHash := auth.NewToken()
	if _, err := f.db.CreateToken(ctx, "hostile input", tokenHash, nil); err != nil {
		t.Fatal(err)
	}
	f.token = token

	cp := &courseprovider.API{Catalog: cat, Bookings: bookings, Auth: auth.New(f.db)}
	api := &portal.API{Catalog: cat, Bookings: bookings, Tokens: &auth.TokenAuth{Store: f.db}}
	reg := server.NewRegistry()
	f.h = server.Handler(f.db, reg, server.NewMetrics(reg), slog.New(slog.NewTextHandler(io.Discard, nil)), cp, api)
	return f
}

// fingerprint is the content of every table a request could change, to show that a
// refused request changed nothing.
func (f *fixture) fingerprint(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT * FROM classes ORDER BY id`, `SELECT * FROM bookings ORDER BY id`, `SELECT * FROM documents ORDER BY id`,
	} {
		rows, err := f.db.SQL().Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		dump(t, &b, rows)
	}
	return b.String()
}

func dump(t testing.TB, b *strings.Builder, rows *sql.Rows) {
	t.Helper()
	defer rows.Close()
	cols, _ := rows.Columns()
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(b, "%v\n", vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
