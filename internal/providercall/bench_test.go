package providercall

import "testing"

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
