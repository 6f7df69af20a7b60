package providercall

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkJournalRecord is the CPU a reserve call spends on its URL and its journal
// entry beside the HTTP exchange: the URL expanded from the registered template, and
// the redacted URL and parameters the journal keeps.
//
//	go test -run '^$' -bench JournalRecord -benchmem ./internal/providercall/
func BenchmarkJournalRecord(b *testing.B) {
	params := reserveParams(ReserveRequest{
		ExternalCourseClassID: "BENCH", ExternalCourseID: "BST", BookingReference: "TP-7KQ2M9XW",
		Student:  Person{FirstName: "Kari", LastName: "Nordmann", Email: "kari@example.no", Phone: "+4799999999"},
		Enroller: Person{FirstName: "Ola", LastName: "Hansen", Email: "ola@example.no"}, Company: "Acme Industri AS",
	})
	const template = "https://provider.example/api/reserve?apiKey=s3cret&class={externalCourseClassId}"
	b.ReportAllocs()
	for b.Loop() {
		raw, err := ExpandURL(template, params)
		if err != nil {
			b.Fatal(err)
		}
		_ = RedactURL(raw)
		_ = RequestParams(params)
	}
}

// discardJournal is a Journal that keeps nothing, so that a benchmark measures the
// call and not a growing list of entries.
type discardJournal struct{}

func (discardJournal) RecordCall(context.Context, Call) error { return nil }

// BenchmarkReserve is one reserve call through the Client, journal entry included, to
// a provider that answers at once, as the portal's booking path makes it.
//
//	go test -run '^$' -bench 'Reserve$' -benchmem ./internal/providercall/
func BenchmarkReserve(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"successful":true,"bookingReference":"P-1","errorMessage":""}`)
	}))
	defer srv.Close()
	c := New(Options{AllowPrivateURLs: true, Journal: discardJournal{}})
	t := Target{ProviderID: 1, ProviderName: "Bench", ReserveURL: srv.URL + "/reserve?apiKey=s3cret"}
	r := ReserveRequest{
		ExternalCourseClassID: "BENCH", ExternalCourseID: "BST", BookingReference: "TP-7KQ2M9XW",
		Student:  Person{FirstName: "Kari", LastName: "Nordmann", Email: "kari@example.no", Phone: "+4799999999"},
		Enroller: Person{FirstName: "Ola", LastName: "Hansen", Email: "ola@example.no"}, Company: "Acme Industri AS",
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		ans, err := c.Reserve(ctx, t, r)
		if err != nil || !ans.Successful {
			b.Fatal(ans, err)
		}
	}
}
