package courseprovider_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tportal/tportal/internal/booking"
	"github.com/tportal/tportal/internal/catalog"
	"github.com/tportal/tportal/internal/store/storetest"
)

// seenInside is what the provider saw when it asked for the booking from inside its
// own reserve handler, before answering.
type seenInside struct {
	mu         sync.Mutex
	status     int
	retryAfter string
}

// bookOne points acme's reserve URL at a provider that calls getBookingInformation
// before it answers, adds a class and books it. The provider answers successful when
// accept is true.
func bookOne(t *testing.T, p *portal, accept bool) (booking.Booking, *seenInside, error) {
	t.Helper()
	ctx := context.Background()
	seen := &seenInside{}
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ref := r.URL.Query().Get("trainingportalBookingReference")
		req, _ := http.NewRequest("GET", p.root+"/api/courseprovider/rest/v1/booking/get/"+ref, nil)
		req.SetBasicAuth("acme", p.acme.Get("password"))
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			seen.mu.Lock()
			seen.status, seen.retryAfter = res.StatusCode, res.Header.Get("Retry-After")
			seen.mu.Unlock()
		}
		if accept {
			w.Write([]byte(`{"successful":"true","bookingReference":"PRV-1","errorMessage":""}`))
		} else {
			w.Write([]byte(`<answer><successful>false</successful><errorMesssage>Fully booked</errorMesssage></answer>`))
		}
	}))
	t.Cleanup(provider.Close)
	reserve := provider.URL + "/reserve"
	if _, err := p.catalog.ChangeProvider(ctx, "acme", catalog.ProviderChange{ReserveURL: &reserve}); err != nil {
		t.Fatal(err)
	}
	acme, err := p.db.ProviderByUsername(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	f := catalog.ClassFields{}
	form := classForm("BOOKME")
	for k, dst := range map[string]**string{
		"externalId": &f.ExternalID, "location": &f.Location, "availableSeats": &f.AvailableSeats,
		"enrollmentDeadline": &f.EnrollmentDeadline, "cancellationDeadline": &f.CancellationDeadline,
		"startDate": &f.StartDate, "endDate": &f.EndDate, "address.addressLine1": &f.AddressLine1,
		"address.city": &f.City, "address.zipCode": &f.ZipCode, "address.country": &f.Country,
		"price.currency": &f.Currency, "price.amount": &f.Amount,
	} {
		v := form.Get(k)
		*dst = &v
	}
	class, err := p.catalog.AddClass(ctx, acme, "BST", f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.bookings.Book(ctx, booking.Request{
		ClassID:  class.ID,
		Student:  booking.Person{FirstName: "Kari", LastName: "Nordmann", Email: "kari@example.no", Phone: "+47 900 00 000"},
		Enroller: booking.Person{FirstName: "Ola", LastName: "Hansen", Email: "ola@example.no", Phone: "22 22 22 22"},
		Company:  "Nordsjø AS", Comment: "Vegetarian lunch", PurchaseOrderNumber: "PO-77", StudentBirthDate: "1990-05-17",
	})
	return b, seen, err
}

// A provider that asks for the booking from inside its reserve handler sees 404 with
// Retry-After, and the full booking once the reservation is recorded.
func TestGetBookingInformationDuringAndAfterReserve(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		p := newPortal(t, dialect)
		b, seen, err := bookOne(t, p, true)
		if err != nil || b.State != booking.Reserved || b.ProviderReference != "PRV-1" {
			t.Fatalf("Book = %+v, %v", b, err)
		}
		seen.mu.Lock()
		if seen.status != 404 || seen.retryAfter != "1" {
			t.Errorf("inside reserve: status %d Retry-After %q, want 404 and 1", seen.status, seen.retryAfter)
		}
		seen.mu.Unlock()

		r := p.postAt("v1/booking/get/"+b.Reference, p.acme, nil, "")
		expect(t, "getBookingInformation", r, 200)
		m := r.json(t)
		want := map[string]any{"bookingReference": b.Reference, "externalCourseClassId": "BOOKME", "firstName": "Kari",
			"lastName": "Nordmann", "firstname": "Kari", "lastname": "Nordmann", "email": "kari@example.no",
			"phone": "4790000000", "birthDate": "1990-05-17", "company": "Nordsjø AS", "enrollmentStatus": "NEW",
			"commentOnEnrollment": "Vegetarian lunch", "purchaseOrderNumber": "PO-77",
			"externalCourseId": "BST", "providerBookingReference": "PRV-1"}
		for k, v := range want {
			if m[k] != v {
				t.Errorf("%s = %v, want %v", k, m[k], v)
			}
		}
		if e, _ := m["enroller"].(map[string]any); e["email"] != "ola@example.no" || e["firstName"] != "Ola" || e["phone"] != "4722222222" {
			t.Errorf("enroller = %v", m["enroller"])
		}
		r = p.postAt("v1/booking/get/"+b.Reference, p.acme, nil, "application/xml")
		for _, want := range []string{"<booking><bookingReference>" + b.Reference, "<enrollmentStatus>NEW</enrollmentStatus>",
			"<firstName>Kari</firstName>", "<firstname>Kari</firstname>", "<lastname>Nordmann</lastname>", "<phone>4790000000</phone>",
			"<externalCourseId>BST</externalCourseId>", "<providerBookingReference>PRV-1</providerBookingReference>"} {
			if !strings.Contains(string(r.body), want) {
				t.Errorf("XML booking lacks %s: %s", want, r.body)
			}
		}
		r = p.postAt("v1/booking/get/PRV-1", p.acme, nil, "")
		expect(t, "getBookingInformation by the provider's own reference", r, 200)
		if m := r.json(t); m["bookingReference"] != b.Reference {
			t.Errorf("by the provider's reference: bookingReference %v, want %s", m["bookingReference"], b.Reference)
		}
		expect(t, "another provider's booking", p.postAt("v1/booking/get/"+b.Reference, p.other, nil, ""), 403)
		r = p.postAt("v1/booking/get/no_such_ref", p.acme, nil, "")
		expect(t, "unknown booking", r, 404)
		if r.header.Get("Retry-After") != "" {
			t.Error("an unknown booking says Retry-After")
		}
		if m := r.json(t); m["successful"] != false || m["sucessful"] != false || m["errorMessage"] == "" {
			t.Errorf("error answer %s, want successful and sucessful false beside errorMessage", r.body)
		}
		r = p.postAt("v1/booking/get/no_such_ref", p.acme, nil, "text/xml")
		if !strings.Contains(string(r.body), "<error><successful>false</successful><sucessful>false</sucessful><errorMessage>") {
			t.Errorf("XML error answer = %s", r.body)
		}
	})
}

func TestRejectedBookingIsGone(t *testing.T) {
	p := newPortal(t, "sqlite")
	b, _, err := bookOne(t, p, false)
	if b.State != booking.Rejected || err == nil || !strings.Contains(err.Error(), "Fully booked") {
		t.Fatalf("Book = %+v, %v", b, err)
	}
	expect(t, "rejected booking", p.postAt("v1/booking/get/"+b.Reference, p.acme, nil, ""), 410)
}

func TestUpdateBookingStatusAndUpload(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		p := newPortal(t, dialect)
		p.bookings.MaxDocumentBytes = 4096
		now := settableClock(p)
		b, _, err := bookOne(t, p, true)
		if err != nil {
			t.Fatal(err)
		}
		now.Store(time.Date(2030, 10, 5, 12, 0, 0, 0, time.UTC).UnixNano()) // the class ran from 2030-10-01
		today := "2030-10-05"
		update := "v1/booking/update/" + b.Reference
		for _, tt := range []struct {
			form   url.Values
			status int
			want   string
		}{
			{url.Values{"newStatus": {"COMPLETED"}}, 400, "completionDate: is required"},
			{url.Values{"newStatus": {"COMPLETED"}, "completionDate": {"2999-01-01"}}, 400, "in the future"},
			{url.Values{"newStatus": {"COMPLETED"}, "completionDate": {"2015-05-05"}}, 400, `completionDate: 2015-05-05 is before class "BOOKME" starts on 2030-10-01`},
			{url.Values{"newStatus": {"PASSED"}}, 400, "newStatus"},
			{url.Values{"newStatus": {"COMPLETED"}, "completionDate": {today}}, 200, ""},
		} {
			r := p.postAt(update, p.acme, tt.form, "")
			expect(t, "update "+tt.form.Encode(), r, tt.status)
			if tt.status == 200 {
				if m := r.json(t); m["successful"] != true || m["sucessful"] != true || m["errorMessage"] != "" {
					t.Errorf("status message %s, want both spellings true and an empty errorMessage", r.body)
				}
			} else if msg := r.errorMessage(t); !strings.Contains(msg, tt.want) {
				t.Errorf("errorMessage %q does not contain %q", msg, tt.want)
			}
		}
		if m := p.postAt("v1/booking/get/"+b.Reference, p.acme, nil, "").json(t); m["enrollmentStatus"] != "COMPLETED" {
			t.Errorf("after COMPLETED: enrollmentStatus %v", m["enrollmentStatus"])
		}

		upload := "v1/booking/uploadDocumentation/" + b.Reference
		pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
		r := p.multipart(upload, p.acme, "certificate.pdf", pdf, map[string]string{"documentType": "COURSE_CERTIFICATE"})
		expect(t, "multipart PDF", r, 200)
		if m := r.json(t); m["successful"] != true || m["sucessful"] != true || m["documentId"] == "" {
			t.Errorf("upload answered %s", r.body)
		}
		png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
		r = p.postAt(upload, p.acme, url.Values{"fileName": {"badge.png"}, "documentType": {"OTHER"}, "content": {base64.StdEncoding.EncodeToString(png)}}, "")
		expect(t, "base64 PNG", r, 200)
		r = p.multipart(upload, p.acme, "looks-like.pdf", []byte("just text"), nil)
		expect(t, "text named .pdf", r, 400)
		r = p.multipart(upload, p.acme, "big.pdf", append([]byte("%PDF-"), make([]byte, 5000)...), nil)
		expect(t, "over the limit", r, 413)
		r = p.postAt(upload, p.acme, url.Values{"documentType": {"DIPLOMA"}, "content": {base64.StdEncoding.EncodeToString(pdf)}}, "")
		expect(t, "bad documentType", r, 400)
		expect(t, "someone else's booking", p.multipart(upload, p.other, "c.pdf", pdf, nil), 403)

		docs, err := p.bookings.Documents(context.Background(), b)
		if err != nil || len(docs) != 2 {
			t.Fatalf("documents = %v, %v", docs, err)
		}
		if docs[0].ContentType != "application/pdf" || docs[0].FileName != "certificate.pdf" || docs[0].Type != "COURSE_CERTIFICATE" ||
			docs[1].ContentType != "image/png" || docs[1].Type != "OTHER" {
			t.Errorf("documents = %+v", docs)
		}
		d, err := p.bookings.Document(context.Background(), b, docs[0].ID)
		if err != nil || !bytes.Equal(d.Content, pdf) {
			t.Errorf("download = %q, %v", d.Content, err)
		}
	})
}

// settableClock gives the portal's booking engine a clock the test can move, set
// before any request so that the server's goroutines only ever read it atomically.
func settableClock(p *portal) *atomic.Int64 {
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	p.bookings.Now = func() time.Time { return time.Unix(0, now.Load()) }
	return &now
}

// postAt posts to a path under the API base with an optional Accept header.
func (p *portal) postAt(path string, creds, form url.Values, accept string) response {
	p.t.Helper()
	v := url.Values{}
	for k, vs := range creds {
		v[k] = vs
	}
	for k, vs := range form {
		v[k] = vs
	}
	req, _ := http.NewRequest("POST", p.root+"/api/courseprovider/rest/"+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return p.do(req)
}

// multipart uploads a file as multipart field "file".
func (p *portal) multipart(path string, creds url.Values, name string, content []byte, fields map[string]string) response {
	p.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k := range creds {
		mw.WriteField(k, creds.Get(k))
	}
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(content)
	mw.Close()
	req, _ := http.NewRequest("POST", p.root+"/api/courseprovider/rest/"+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return p.do(req)
}
